/**
 * The decisions API end to end through the HTTP apps, on PostgreSQL and the embedded store: every kind of decision
 * publishes the status it names under a strictly increasing version; each record verifies as a partner
 * verifies it, is stored byte for byte, and is accepted by a real partner gateway; a repeated decisionId
 * changes nothing and answers the same result.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Partner } from '../../src/mra/types.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { outcomes, STORE_KINDS } from '../support/gateway.ts';
import { composeTestGateway, type InjectedGateway } from '../support/inject.ts';
import {
  certifyBody,
  decide,
  freshAeoId,
  homeRecords,
  operatorDetails,
  postDecision,
  publishCounts,
  verifyAsPartner,
  withApiClients,
} from '../support/publishing.ts';

let admins: TestAdmins;
beforeAll(() => {
  admins = makeAdmins(['PE', 'CL', 'AR'], { edit: (_id, raw) => withApiClients(raw) });
});
afterAll(() => admins.cleanup());

/** PE as CL's configuration knows it: the anchors a partner checks PE's records against. */
const peAtCl = (): Partner => admins.get('CL').config.partners.find((p) => p.adminId === 'PE')!;

describe.each(STORE_KINDS)('decisions on %s', (kind) => {
  let pe: InjectedGateway;
  let cl: InjectedGateway;
  beforeAll(async () => {
    pe = await composeTestGateway(admins.get('PE').config, kind);
    cl = await composeTestGateway(admins.get('CL').config, 'embedded');
  });
  afterAll(async () => {
    await pe?.close();
    await cl?.close();
  });

  it('publishes certify, amend, suspend, reinstate, revoke and withdraw as versions 1 to 6', async () => {
    const aeoId = freshAeoId();
    const renamed = { ...operatorDetails(aeoId), name: 'Andina Export Holding S.A.' };
    const steps: [Record<string, unknown>, Record<string, unknown>][] = [
      [
        certifyBody(aeoId),
        { status: 'certified', statusSince: '2025-03-01', operator: operatorDetails(aeoId) },
      ],
      [
        { aeoId, decision: 'amend', operator: renamed, lastValidatedOn: '2026-04-01' },
        { status: 'certified', operator: renamed, lastValidatedOn: '2026-04-01' },
      ],
      [
        { aeoId, decision: 'suspend', statusSince: '2026-05-01', suspendedUntil: '2026-08-01' },
        { status: 'suspended', statusSince: '2026-05-01', suspendedUntil: '2026-08-01' },
      ],
      [
        { aeoId, decision: 'certify', statusSince: '2026-06-01' },
        { status: 'certified', statusSince: '2026-06-01', operator: renamed, certifiedOn: '2025-03-01' },
      ],
      [{ aeoId, decision: 'revoke', statusSince: '2026-07-01' }, { status: 'revoked' }],
      [{ aeoId, decision: 'withdraw', statusSince: '2026-07-02' }, { status: 'withdrawn' }],
    ];
    const results = [];
    for (const [body, expected] of steps) {
      const result = await decide(pe, body);
      expect(result.replayed).toBe(false);
      expect(result.record?.partners).toEqual(['AR', 'CL']);
      results.push(result);
      const rows = await homeRecords(pe.store, aeoId);
      const row = rows.at(-1)!;
      expect(row.recordId).toBe(result.record?.recordId);
      // What a partner verifies is what home_record holds, byte for byte.
      const record = await verifyAsPartner(row.jws, peAtCl());
      expect(record).toMatchObject({
        schema: 'aeo-status/1',
        recordId: row.recordId,
        issuer: 'PE',
        version: results.length,
        programme: 'AEO-F',
        certifiedOn: '2025-03-01',
        ...expected,
        operator: { aeoId, ...((expected.operator as object | undefined) ?? {}) },
      });
      if (record.status !== 'suspended') expect(record).not.toHaveProperty('suspendedUntil');
      expect(result.record).toMatchObject({ version: results.length, status: record.status });
    }
    const rows = await homeRecords(pe.store, aeoId);
    expect(rows.map((r) => [r.version, r.status, r.partners])).toEqual([
      [1, 'certified', ['AR', 'CL']],
      [2, 'certified', ['AR', 'CL']],
      [3, 'suspended', ['AR', 'CL']],
      [4, 'certified', ['AR', 'CL']],
      [5, 'revoked', ['AR', 'CL']],
      [6, 'withdrawn', ['AR', 'CL']],
    ]);
    expect(new Set(rows.map((r) => r.recordId)).size).toBe(6);
    const [entry] = await pe.store.query<{ version: string; status: string }>(
      'SELECT version::text, status FROM home_operator WHERE aeo_id = $1',
      [aeoId],
    );
    expect(entry).toEqual({ version: '6', status: 'withdrawn' });
  });

  it('signs records a real partner gateway accepts, in version order', async () => {
    const aeoId = freshAeoId();
    await decide(pe, certifyBody(aeoId));
    await decide(pe, { aeoId, decision: 'suspend', suspendedUntil: '2026-12-31' });
    const rows = await homeRecords(pe.store, aeoId);
    const { receipt, results } = await cl.send(rows.map((r) => r.jws));
    expect(receipt.sender).toBe('PE');
    expect(outcomes(results)).toEqual(['accepted', 'accepted']);
    const [held] = await cl.store.query<{ version: string; status: string }>(
      "SELECT version::text, status FROM operator_state WHERE issuer = 'PE' AND aeo_id = $1",
      [aeoId],
    );
    expect(held).toEqual({ version: '2', status: 'suspended' });
  });

  it('answers a repeated decisionId with the same result, 200, and changes nothing', async () => {
    const aeoId = freshAeoId();
    const body = { decisionId: crypto.randomUUID(), ...certifyBody(aeoId) };
    const first = await postDecision(pe, body);
    expect(first.status).toBe(201);
    const before = await publishCounts(pe.store);
    const again = await postDecision(pe, body);
    expect(again.status).toBe(200);
    expect(JSON.parse(again.text)).toEqual({ ...JSON.parse(first.text), replayed: true });
    // The decisionId decides, not the body: a retry that differs is still the decision already taken.
    const differing = await postDecision(pe, { ...body, aeoId: freshAeoId(), decision: 'revoke' });
    expect(differing.status).toBe(200);
    expect(JSON.parse(differing.text)).toEqual({ ...JSON.parse(first.text), replayed: true });
    expect(await publishCounts(pe.store)).toEqual(before);
    expect((await homeRecords(pe.store, aeoId)).map((r) => r.version)).toEqual([1]);

    // A decision that published nothing (no consent) replays as nothing.
    const quiet = { decisionId: crypto.randomUUID(), ...certifyBody(freshAeoId(), { consent: false }) };
    const q1 = await postDecision(pe, quiet);
    const q2 = await postDecision(pe, quiet);
    expect([q1.status, q2.status]).toEqual([201, 200]);
    expect(JSON.parse(q2.text)).toEqual({ ...JSON.parse(q1.text), record: null, replayed: true });
  });

  it('gives concurrent decisions about one operator distinct, gapless versions', async () => {
    const aeoId = freshAeoId();
    await decide(pe, certifyBody(aeoId));
    const kinds = ['suspend', 'certify', 'suspend', 'certify', 'revoke', 'certify', 'suspend', 'certify'];
    const results = await Promise.all(kinds.map((decision) => decide(pe, { aeoId, decision })));
    const versions = results.map((r) => r.record!.version).sort((a, b) => a - b);
    expect(versions).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    const rows = await homeRecords(pe.store, aeoId);
    expect(rows.map((r) => r.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Every record's payload carries the version of its row.
    for (const r of rows) expect((await verifyAsPartner(r.jws, peAtCl())).version).toBe(r.version);
  });
});
