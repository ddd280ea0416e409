/**
 * Every reason a border lookup gives for "not recognised", on the real stack: unknown, suspended, revoked,
 * withdrawn from the partner's records; mra-not-in-force and out-of-scope from replicas whose MRA with the
 * partner was since suspended or narrowed (the records were accepted under the broader agreement).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LookupAnswer } from '../../src/lookup/answer.ts';
import { loadAll } from '../../src/lookup/load.ts';
import { ReadModel } from '../../src/lookup/read-model.ts';
import type { AeoStatusRecord } from '../../src/protocol/record.ts';
import {
  apiGet,
  type InjectedReplica,
  type LookupSetup,
  lookupOne,
  makeLookupSetup,
} from '../support/lookup.ts';
import { freshRecord } from '../support/records.ts';

let setup: LookupSetup;
let gw: InjectedReplica;
const byStatus = new Map<string, AeoStatusRecord>();

beforeAll(async () => {
  setup = await makeLookupSetup();
  gw = await setup.composed();
  for (const status of ['certified', 'suspended', 'revoked', 'withdrawn'] as const) {
    byStatus.set(status, freshRecord('CL', { status, statusSince: '2025-05-01' }));
  }
  const sent = await setup.send(gw, [...byStatus.values()]);
  expect(sent.results.map((r) => r.outcome)).toEqual(['accepted', 'accepted', 'accepted', 'accepted']);
});

afterAll(async () => {
  await setup?.close();
});

const aeoIdOf = (status: string) => byStatus.get(status)!.operator.aeoId;

describe('not-recognised reasons', () => {
  it('recognises the certified operator, with MRA, benefits, evidence and freshness', async () => {
    const answer = await lookupOne(gw, 'CL', aeoIdOf('certified'));
    expect(answer).toMatchObject({
      recognised: true,
      operator: { issuer: 'CL', status: 'certified', statusSince: '2025-05-01', programme: 'AEO-F' },
      mra: { id: 'CL-PE', partner: 'CL', status: 'in-force', inForce: true },
      evidence: { recordId: byStatus.get('certified')!.recordId },
    });
    expect(answer.reason).toBeUndefined();
    expect(answer.benefits.length).toBeGreaterThan(0);
    expect(answer.freshness.partnerLastReceivedAt).not.toBeNull();
    expect(answer.freshness.readModelLastChangeAt).not.toBeNull();
  });

  it('says unknown for an operator the partner never sent, and before the first record', async () => {
    expect(await lookupOne(gw, 'CL', 'CLNEVER0001')).toMatchObject({ recognised: false, reason: 'unknown' });
    const early = await lookupOne(gw, 'CL', aeoIdOf('certified'), '2025-05-01T00:00:00Z');
    expect(early).toMatchObject({ recognised: false, reason: 'unknown' });
    const byId = await apiGet(gw, '/operators?scheme=TIN&value=NOSUCH1');
    expect(JSON.parse(byId.text)).toMatchObject({ recognised: false, reason: 'unknown' });
  });

  it('says suspended, revoked and withdrawn from the operator status', async () => {
    for (const status of ['suspended', 'revoked', 'withdrawn']) {
      const answer = await lookupOne(gw, 'CL', aeoIdOf(status));
      expect(answer).toMatchObject({ recognised: false, reason: status, operator: { status }, benefits: [] });
    }
  });

  it('says mra-not-in-force once the MRA is suspended, and out-of-scope once it is narrowed', async () => {
    const suspended = await setup.composed({ status: 'suspended' });
    const narrowed = await setup.composed({ programmes: new Set(['AEO-S']) });
    const noRoles = await setup.composed({ roles: new Set(['carrier']) });
    try {
      const id = aeoIdOf('certified');
      const answers: LookupAnswer[] = [
        await lookupOne(suspended, 'CL', id),
        await lookupOne(narrowed, 'CL', id),
        await lookupOne(noRoles, 'CL', id),
      ];
      expect(answers.map((x) => [x.recognised, x.reason])).toEqual([
        [false, 'mra-not-in-force'],
        [false, 'out-of-scope'],
        [false, 'out-of-scope'],
      ]);
      expect(answers[0]!.mra).toMatchObject({ status: 'suspended', inForce: false });
      // The operator's own status comes first: a revoked operator stays revoked under a suspended MRA.
      expect((await lookupOne(suspended, 'CL', aeoIdOf('revoked'))).reason).toBe('revoked');
    } finally {
      await Promise.all([suspended.close(), narrowed.close(), noRoles.close()]);
    }
  });

  it('finds operators by identifier, with or without the issuing country', async () => {
    const record = byStatus.get('suspended')!;
    const [tin, eori] = record.operator.identifiers;
    const withCountry = await apiGet(gw, `/operators?scheme=${tin!.scheme}&value=${tin!.value}&country=CL`);
    expect(JSON.parse(withCountry.text)).toMatchObject({
      reason: 'suspended',
      operator: { aeoId: record.operator.aeoId },
    });
    const anyCountry = await apiGet(gw, `/operators?scheme=${eori!.scheme}&value=${eori!.value}`);
    expect(JSON.parse(anyCountry.text)).toMatchObject({ operator: { aeoId: record.operator.aeoId } });
    const otherCountry = await apiGet(gw, `/operators?scheme=${tin!.scheme}&value=${tin!.value}&country=PE`);
    expect(JSON.parse(otherCountry.text)).toMatchObject({ recognised: false, reason: 'unknown' });
  });

  it('loads the same model whatever the page size (identifiers straddling pages)', async () => {
    const [small, large] = [new ReadModel(), new ReadModel()];
    await loadAll(gw.store, small, 3);
    await loadAll(gw.store, large);
    expect(small.operatorCount).toBe(4);
    for (const record of byStatus.values()) {
      const { aeoId, identifiers } = record.operator;
      const slot = (m: ReadModel) => m.find('CL', aeoId)!;
      expect(small.history(slot(small))).toEqual(large.history(slot(large)));
      for (const i of identifiers) {
        expect(small.findByIdentifier(i.scheme, i.value, 'CL')).toEqual([slot(small)]);
      }
    }
  });
});
