/**
 * docs/threats.md F 49 over HTTP: the receiver EU holds one MRA per partner, each in another state (not yet in
 * force, expired, suspended, terminated, narrow scope, last day today), configured through makeAdmins' `edit`
 * hook; each partner signs its own records with its real certificate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawPartner } from '../../src/config/raw.ts';
import type { AeoStatusRecord } from '../../src/protocol/record.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { expectNoTrace, outcomes, tableCounts, traceOf } from '../support/gateway.ts';
import { composeTestGateway, type InjectedGateway } from '../support/inject.ts';
import { freshRecord, signAll } from '../support/records.ts';

const DAY = 24 * 3600 * 1000;
const date = (days: number) => new Date(Date.now() + days * DAY).toISOString().slice(0, 10);

/** Partner → how EU's MRA with it differs from the broad default of devConfig. */
const MRAS: Record<string, (mra: RawPartner['mra']) => void> = {
  NY: (m) => {
    m.inForceFrom = date(2);
  },
  EX: (m) => {
    m.inForceUntil = date(-2);
  },
  SU: (m) => {
    m.status = 'suspended';
  },
  TE: (m) => {
    m.status = 'terminated';
  },
  SC: (m) => {
    m.scope = { programmes: ['AEO-S'], roles: ['importer', 'carrier'] };
  },
  LD: (m) => {
    m.inForceFrom = date(-30);
    m.inForceUntil = date(0);
  },
};

let admins: TestAdmins;
let gw: InjectedGateway;
beforeAll(async () => {
  admins = makeAdmins(['EU', ...Object.keys(MRAS)], {
    edit: (id, raw) => {
      if (id !== 'EU') return;
      for (const p of raw.partners) MRAS[p.adminId]?.(p.mra);
    },
  });
  gw = await composeTestGateway(admins.get('EU').config, 'postgres');
});
afterAll(async () => {
  await gw?.close();
  admins.cleanup();
});

async function sendAs(id: string, records: AeoStatusRecord[]) {
  const before = await tableCounts(gw.store);
  const { receipt, results } = await gw.send(await signAll(records, admins.get(id).config.home.signers[0]!));
  expect(receipt.sender).toBe(id);
  return { before, results };
}

describe('49: MRA in force and scope', () => {
  it.each([
    ['not yet in force', 'NY'],
    ['expired', 'EX'],
    ['suspended', 'SU'],
    ['terminated', 'TE'],
  ])('rejects every record of a partner whose MRA is %s with NO_MRA_IN_FORCE', async (_name, id) => {
    const records = [freshRecord(id), freshRecord(id, { programme: 'AEO-C' })];
    const { before, results } = await sendAs(id, records);
    expect(outcomes(results)).toEqual(['rejected:NO_MRA_IN_FORCE', 'rejected:NO_MRA_IN_FORCE']);
    await expectNoTrace(gw.store, before, {
      recordIds: records.map((r) => r.recordId),
      aeoIds: records.map((r) => r.operator.aeoId),
    });
  });

  it('rejects a programme or roles outside the scope with OUT_OF_SCOPE and accepts what is inside', async () => {
    const roles = (r: AeoStatusRecord, list: AeoStatusRecord['operator']['roles']) => ({
      ...r,
      operator: { ...r.operator, roles: list },
    });
    const records = [
      roles(freshRecord('SC', { programme: 'AEO-C' }), ['importer']),
      roles(freshRecord('SC', { programme: 'AEO-F' }), ['importer']),
      roles(freshRecord('SC', { programme: 'AEO-S' }), ['exporter', 'manufacturer']),
      roles(freshRecord('SC', { programme: 'AEO-S' }), ['exporter', 'carrier']),
      roles(freshRecord('SC', { programme: 'AEO-S' }), ['importer']),
    ];
    const { before, results } = await sendAs('SC', records);
    expect(outcomes(results)).toEqual([
      'rejected:OUT_OF_SCOPE',
      'rejected:OUT_OF_SCOPE',
      'rejected:OUT_OF_SCOPE',
      'accepted',
      'accepted',
    ]);
    expect(results[0]!.detail).toMatch(/programme/);
    expect(results[2]!.detail).toMatch(/roles/);
    const after = await tableCounts(gw.store);
    expect(after.inbound_record - before.inbound_record).toBe(2);
    expect(after.operator_state - before.operator_state).toBe(2);
    const rejected = records.slice(0, 3);
    expect(
      await traceOf(gw.store, {
        recordIds: rejected.map((r) => r.recordId),
        aeoIds: rejected.map((r) => r.operator.aeoId),
      }),
    ).toBe(0);
  });

  it('accepts records on the last day of an MRA (inForceUntil is inclusive)', async () => {
    const { results } = await sendAs('LD', [freshRecord('LD')]);
    expect(outcomes(results)).toEqual(['accepted']);
  });
});
