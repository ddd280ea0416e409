/**
 * Decisions applied as a set (a chunk of a register import, several from the API): read in one statement per
 * table, applied in memory in order, written in one statement per table. The rules are those of one decision
 * at a time: an operator's decisions in one set chain on each other, a decisionId seen earlier in the set or
 * in an earlier transaction replays, a partner that held the operator (earlier in the set or before) hears of
 * it again, a refused decision leaves its neighbours alone (decideEach) or refuses the set (decideMany), and
 * `seq` follows the set's order. PE's MRAs: with CL for exporters, with AR for carriers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionInput } from '../../src/publishing/decision.ts';
import { createPublisher, type Publisher } from '../../src/publishing/publish.ts';
import type { Store } from '../../src/store/types.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { openTestStore, STORE_KINDS } from '../support/gateway.ts';
import {
  certifyBody,
  freshAeoId,
  homeRecords,
  operatorDetails,
  publishCounts,
  verifyAsPartner,
} from '../support/publishing.ts';

let admins: TestAdmins;
beforeAll(() => {
  admins = makeAdmins(['PE', 'CL', 'AR'], {
    edit: (id, raw) => {
      if (id !== 'PE') return;
      for (const p of raw.partners) {
        p.mra.scope = {
          programmes: ['AEO-S', 'AEO-C', 'AEO-F'],
          roles: p.adminId === 'CL' ? ['exporter'] : ['carrier'],
        };
      }
    },
  });
});
afterAll(() => admins.cleanup());

const decision = (body: Record<string, unknown>): DecisionInput =>
  ({ decisionId: crypto.randomUUID(), ...body }) as unknown as DecisionInput;

describe.each(STORE_KINDS)('decision sets on %s', (kind) => {
  let store: Store;
  let dispose: () => Promise<void>;
  let publisher: Publisher;
  let published = 0;
  beforeAll(async () => {
    ({ store, dispose } = await openTestStore(kind));
    publisher = createPublisher({
      config: admins.get('PE').config,
      store,
      onPublished: (n) => {
        published += n;
      },
    });
  });
  afterAll(() => dispose?.());

  it("chains an operator's decisions in one set, and sends a partner that held it the later versions", async () => {
    const a = freshAeoId();
    const b = freshAeoId();
    const set = [
      decision(certifyBody(a, { operator: operatorDetails(a, ['exporter']) })),
      decision(certifyBody(b, { operator: operatorDetails(b, ['carrier']) })),
      decision({ aeoId: a, decision: 'amend', operator: operatorDetails(a, ['carrier']) }),
      decision({ aeoId: a, decision: 'suspend', statusSince: '2026-01-02', suspendedUntil: '2026-06-30' }),
      decision({ aeoId: b, decision: 'consent', consent: false }),
    ];
    const before = published;
    const out = await publisher.decideEach(set);
    expect(out.every((o) => o.ok)).toBe(true);
    const results = out.map((o) => (o.ok ? o.result : undefined));
    expect(results.map((r) => [r?.record?.version, r?.record?.status, r?.record?.partners])).toEqual([
      [1, 'certified', ['CL']],
      [1, 'certified', ['AR']],
      // Left CL's scope, but CL held version 1 from earlier in the same set.
      [2, 'certified', ['AR', 'CL']],
      [3, 'suspended', ['AR', 'CL']],
      // Consent withdrawn: only to the partner that held the operator.
      [2, 'withdrawn', ['AR']],
    ]);
    expect(published - before).toBe(5);
    const recordsA = await homeRecords(store, a);
    expect(recordsA.map((r) => [r.version, r.partners])).toEqual([
      [1, ['CL']],
      [2, ['AR', 'CL']],
      [3, ['AR', 'CL']],
    ]);
    const last = await verifyAsPartner(
      recordsA[2]!.jws,
      admins.get('CL').config.partners.find((p) => p.adminId === 'PE')!,
    );
    expect(last).toMatchObject({ version: 3, status: 'suspended', suspendedUntil: '2026-06-30' });
    expect(last.operator.roles).toEqual(['carrier']);
    // seq follows the set's order, across operators.
    const seqs = [...recordsA, ...(await homeRecords(store, b))].map((r) => Number(r.seq));
    const [a1, a2, a3, b1, b2] = seqs;
    expect([a1! < b1!, b1! < a2!, a2! < a3!, a3! < b2!]).toEqual([true, true, true, true]);
    const [entry] = await store.query<{ operator: { roles: string[] }; version: string; status: string }>(
      'SELECT operator, version::text, status FROM home_operator WHERE aeo_id = $1',
      [a],
    );
    expect(entry).toMatchObject({ version: '3', status: 'suspended', operator: { roles: ['carrier'] } });
  });

  it('sends a later set to the partners that held the operator before it', async () => {
    const a = freshAeoId();
    await publisher.decideEach([decision(certifyBody(a, { operator: operatorDetails(a, ['exporter']) }))]);
    const [moved, withdrawn] = await publisher.decideEach([
      decision({ aeoId: a, decision: 'amend', operator: operatorDetails(a, ['carrier']) }),
      decision({ aeoId: a, decision: 'withdraw' }),
    ]);
    expect(moved).toMatchObject({ ok: true, result: { record: { version: 2, partners: ['AR', 'CL'] } } });
    expect(withdrawn).toMatchObject({
      ok: true,
      result: { record: { version: 3, status: 'withdrawn', partners: ['AR', 'CL'] } },
    });
  });

  it('replays a decisionId seen earlier in the set or in an earlier transaction', async () => {
    const a = freshAeoId();
    const first = decision(certifyBody(a));
    const quiet = decision(certifyBody(freshAeoId(), { consent: false }));
    const [one, again] = await publisher.decideEach([first, { ...first, decision: 'revoke' }]);
    expect(one).toMatchObject({ ok: true, result: { replayed: false, record: { version: 1 } } });
    expect(again).toEqual(one?.ok ? { ok: true, result: { ...one.result, replayed: true } } : undefined);
    const counts = await publishCounts(store);
    const later = await publisher.decideEach([quiet, first, quiet]);
    expect(later[1]).toEqual(again);
    expect(later[0]).toMatchObject({ ok: true, result: { replayed: false, record: null } });
    const quietFirst = later[0];
    expect(later[2]).toEqual(
      quietFirst?.ok ? { ok: true, result: { ...quietFirst.result, replayed: true } } : 0,
    );
    const after = await publishCounts(store);
    expect(after).toEqual({
      ...counts,
      home_operator: counts.home_operator! + 1,
      home_decision: counts.home_decision! + 1,
    });
  });

  it('leaves the neighbours of a refused decision alone, and decideMany refuses the whole set', async () => {
    const a = freshAeoId();
    const unknown = freshAeoId();
    const out = await publisher.decideEach([
      decision(certifyBody(a)),
      decision({ aeoId: unknown, decision: 'suspend' }),
      decision({ aeoId: a, decision: 'consent' }),
      decision({ aeoId: a, decision: 'revoke' }),
    ]);
    expect(out.map((o) => (o.ok ? o.result.record?.version : o.code))).toEqual([
      1,
      'NOT_FOUND',
      'BODY_INVALID',
      2,
    ]);
    const counts = await publishCounts(store);
    const b = freshAeoId();
    await expect(
      publisher.decideMany([decision(certifyBody(b)), decision({ aeoId: unknown, decision: 'revoke' })]),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await publishCounts(store)).toEqual(counts);
  });

  it('chains one records-published audit entry per set, naming exactly its records', async () => {
    const set = Array.from({ length: 30 }, () => decision(certifyBody(freshAeoId())));
    await publisher.decideEach(set);
    const [entry] = await store.query<{ detail: { firstSeq: number; lastSeq: number; count: number } }>(
      `SELECT detail FROM audit_log WHERE kind = 'records-published' ORDER BY seq DESC LIMIT 1`,
    );
    expect(entry?.detail.count).toBe(30);
    expect(entry!.detail.lastSeq - entry!.detail.firstSeq).toBe(29);
  });
});
