/**
 * Two replicas of the receiving gateway on one database: a partner's suspension, accepted by replica A, is in
 * the lookup answers of both within a bounded time; as-of answers over certified → suspended → certified are
 * exact at every boundary; a replica started afterwards rebuilds the same answers from PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LookupAnswer } from '../../src/lookup/answer.ts';
import { loadAll } from '../../src/lookup/load.ts';
import { ReadModel } from '../../src/lookup/read-model.ts';
import type { AeoStatusRecord } from '../../src/protocol/record.ts';
import {
  apiGet,
  type LookupSetup,
  lookupOne,
  makeLookupSetup,
  type Replica,
  within,
} from '../support/lookup.ts';
import { freshRecord, nextVersion } from '../support/records.ts';

/** Propagation bound between replicas: Redis pub/sub on one machine is milliseconds; this leaves room. */
/** Generous for a loaded two-core machine (docs/threats.md 80); bench/propagation.ts measures the real figure. */
const PROPAGATION_MS = 10_000;

let setup: LookupSetup;
let a: Replica;
let b: Replica;

beforeAll(async () => {
  setup = await makeLookupSetup();
  a = await setup.replica();
  b = await setup.replica();
});

afterAll(async () => {
  await setup?.close();
});

const minus1 = (iso: string) => new Date(Date.parse(iso) - 1).toISOString();

describe('lookups across two replicas', () => {
  const v1: AeoStatusRecord = freshRecord('CL', { statusSince: '2025-01-10' });
  const v2 = nextVersion(v1, 2, { status: 'suspended', statusSince: '2025-06-01' });
  const v3 = nextVersion(v1, 3, { status: 'certified', statusSince: '2025-07-01' });
  const aeoId = v1.operator.aeoId;
  const times: string[] = [];

  it('sees a certification on both replicas', async () => {
    const sent = await setup.send(a, [v1]);
    expect(sent.results.map((r) => r.outcome)).toEqual(['accepted']);
    times.push(sent.receipt.receivedAt);
    // Applied in-process before the receipt left: replica A answers at once.
    const onA = await lookupOne(a, 'CL', aeoId);
    expect(onA).toMatchObject({ recognised: true, operator: { status: 'certified', version: 1 } });
    await within('replica B to see the certification', PROPAGATION_MS, async () => {
      return (await lookupOne(b, 'CL', aeoId)).recognised;
    });
  });

  it('sees a suspension sent to replica A on replica B within a bounded time', async () => {
    const sent = await setup.send(a, [v2]);
    expect(sent.results.map((r) => r.outcome)).toEqual(['accepted']);
    times.push(sent.receipt.receivedAt);
    expect(await lookupOne(a, 'CL', aeoId)).toMatchObject({ recognised: false, reason: 'suspended' });
    const took = await within('replica B to see the suspension', PROPAGATION_MS, async () => {
      const answer = await lookupOne(b, 'CL', aeoId);
      return answer.reason === 'suspended';
    });
    expect(took).toBeLessThan(PROPAGATION_MS);
    const onB = await lookupOne(b, 'CL', aeoId);
    expect(onB).toMatchObject({
      recognised: false,
      reason: 'suspended',
      operator: { issuer: 'CL', aeoId, version: 2, status: 'suspended', statusSince: '2025-06-01' },
      evidence: { recordId: v2.recordId, receivedAt: sent.receipt.receivedAt },
      benefits: [],
    });
    expect(onB.evidence?.digest).toBe(sent.results[0]!.digest);
    expect(onB.freshness.partnerLastReceivedAt).toBe(sent.receipt.receivedAt);
  });

  it('sees the operator certified again on both, and a batch sent to B on A', async () => {
    const sent = await setup.send(b, [v3]);
    times.push(sent.receipt.receivedAt);
    for (const r of [a, b]) {
      await within('the re-certification', PROPAGATION_MS, async () => {
        return (await lookupOne(r, 'CL', aeoId)).recognised;
      });
    }
    const answer = await lookupOne(a, 'CL', aeoId);
    expect(answer.operator).toMatchObject({ version: 3, status: 'certified' });
    expect(answer.mra).toMatchObject({ partner: 'CL', status: 'in-force', inForce: true });
    expect(answer.benefits.map((x) => x.id)).toEqual(['fewer-checks', 'priority']);
    expect(answer.benefits[0]!.roles).toEqual(['manufacturer', 'exporter']);
  });

  it('answers exactly as of each boundary of the history, on both replicas', async () => {
    const [t1, t2, t3] = times as [string, string, string];
    const expected: [string, string | undefined, number | undefined][] = [
      [minus1(t1), 'unknown', undefined],
      [t1, undefined, 1],
      [minus1(t2), undefined, 1],
      [t2, 'suspended', 2],
      [minus1(t3), 'suspended', 2],
      [t3, undefined, 3],
    ];
    for (const r of [a, b]) {
      for (const [asOf, reason, version] of expected) {
        const answer = await lookupOne(r, 'CL', aeoId, asOf);
        expect({ asOf, reason: answer.reason, version: answer.operator?.version }).toEqual({
          asOf,
          reason,
          version,
        });
        expect(answer.asOf).toBe(asOf);
      }
    }
  });

  it('rebuilds the same answers in a replica started after the changes', async () => {
    const [t1, t2, t3] = times as [string, string, string];
    const c = await setup.replica();
    const points = [minus1(t1), t1, minus1(t2), t2, minus1(t3), t3];
    for (const asOf of points) {
      const [rebuilt, live]: LookupAnswer[] = [
        await lookupOne(c, 'CL', aeoId, asOf),
        await lookupOne(a, 'CL', aeoId, asOf),
      ];
      expect(rebuilt).toEqual(live);
    }
    const [tin] = v1.operator.identifiers;
    const path = `/operators?scheme=${tin!.scheme}&value=${tin!.value}&country=CL&asOf=${encodeURIComponent(t2)}`;
    const [fromC, fromA] = await Promise.all([apiGet(c, path), apiGet(a, path)]);
    expect(fromC.status).toBe(200);
    expect(JSON.parse(fromC.text)).toEqual(JSON.parse(fromA.text));
    expect(JSON.parse(fromC.text)).toMatchObject({ reason: 'suspended', operator: { aeoId } });
    // Current versions come from operator_state, older ones from their payloads, a page at a time: the same
    // history whatever the page size.
    const [paged, whole] = [new ReadModel(), new ReadModel()];
    await loadAll(c.store, paged, 1);
    await loadAll(c.store, whole);
    const historyOf = (m: ReadModel) => m.history(m.find('CL', aeoId)!);
    expect(historyOf(whole).map((v) => [v.version, v.status])).toEqual([
      [3, 'certified'],
      [2, 'suspended'],
      [1, 'certified'],
    ]);
    expect(historyOf(paged)).toEqual(historyOf(whole));
    await c.close();
  });
});
