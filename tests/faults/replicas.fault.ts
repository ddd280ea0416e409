/**
 * Two replicas behind one address (tests/support/fault-replicas.ts) under a bounded load: the national system
 * posts decisions through the API balancer (delivered to the partner CL), CL's own gateway pushes its records
 * through the partner balancer (notified to the border receiver, answered by lookups), and border lookups hit
 * both replicas. With both up: nothing delivered or notified twice, both replicas give the same answers within a
 * bound. Then a replica is SIGKILLed mid-load: the other carries on, every acknowledged decision and record arrives,
 * each stored once; a notification or batch B had in flight is sent again with the same id or bytes, which the
 * consumer applies once (I3).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LookupAnswer } from '../../src/lookup/answer.ts';
import { heldAt, outboxOf, waitFor } from '../support/delivery.ts';
import { bearer, newAeoId } from '../support/exchange.ts';
import {
  BORDER_TOKEN,
  certifyDecision,
  makeReplicaSetup,
  postDecisionUntilAcknowledged,
  type ReplicaSetup,
} from '../support/fault-replicas.ts';
import { notificationsSettled } from '../support/fault-world.ts';
import { httpRequest } from '../support/gateway.ts';
import { pooled, report } from './report.ts';

/** Propagation bound between replicas (the same as tests/integration/lookup-replicas.test.ts). */
const PROPAGATION_MS = 10_000;
/** A job the killed replica held is taken over once its lock lapses (BullMQ, ~30 s), then retried. */
const SETTLE_MS = 240_000;
const PHASE = { decisions: 250, partnerRecords: 100, lookups: 1_000 } as const;

let s: ReplicaSetup;
const peAeoIds: string[] = [];
const clAeoIds: string[] = [];
const peRecordIds: string[] = [];

beforeAll(async () => {
  s = await makeReplicaSetup();
}, 240_000);

afterAll(async () => {
  await s?.close();
});

async function lookup(base: string, aeoId: string): Promise<LookupAnswer> {
  for (let i = 1; ; i += 1) {
    try {
      const res = await httpRequest(`${base}/api/v1/operators/CL/${aeoId}`, {
        method: 'GET',
        headers: bearer(BORDER_TOKEN),
      });
      if (res.status === 200) return JSON.parse(res.text) as LookupAnswer;
      if (i >= 5) throw new Error(`lookup answered ${res.status}: ${res.text.slice(0, 200)}`);
    } catch (error) {
      if (i >= 5) throw error;
    }
    await new Promise((r) => setTimeout(r, 100 * i));
  }
}

const comparable = (x: LookupAnswer) => ({
  recognised: x.recognised,
  operator: x.operator,
  evidence: x.evidence,
});

/** One phase of load: decisions at PE, records from CL, lookups on `lookupBases` in turn; `midway` once a third is in. */
async function load(lookupBases: readonly string[], midway?: () => Promise<void>) {
  let acked = 0;
  let retried = 0;
  let midwayDone = midway === undefined;
  const decisions = pooled(PHASE.decisions, 6, async () => {
    const aeoId = newAeoId('PE');
    const posted = await postDecisionUntilAcknowledged(s.apiLb.url(), certifyDecision(aeoId, 'PE'));
    peAeoIds.push(aeoId);
    peRecordIds.push(posted.recordId);
    acked += 1;
    if (posted.tries > 1) retried += 1;
    if (!midwayDone && acked >= PHASE.decisions / 3) {
      midwayDone = true;
      await midway?.();
    }
  });
  const partner = pooled(PHASE.partnerRecords, 2, async () => {
    const aeoId = newAeoId('CL');
    await postDecisionUntilAcknowledged(s.cl.gateway.apiUrl, certifyDecision(aeoId, 'CL'));
    clAeoIds.push(aeoId);
  });
  let lookups = 0;
  const border = pooled(PHASE.lookups, 4, async (i) => {
    const known = clAeoIds[i % Math.max(1, clAeoIds.length)];
    await lookup(lookupBases[i % lookupBases.length]!, known ?? 'CLOP0000000');
    lookups += 1;
  });
  await Promise.all([decisions, partner, border]);
  return { acked, retried, lookups };
}

/** Waits until both directions settled; returns the counts that show once-only delivery. */
async function settled(lookupBases: readonly string[]) {
  const peOut = await waitFor(
    `${peRecordIds.length} PE outbox rows delivered`,
    async () => {
      const rows = await outboxOf(s.peStore, 'CL');
      return rows.length === peRecordIds.length && rows.every((r) => r.state === 'delivered')
        ? rows
        : undefined;
    },
    SETTLE_MS,
    250,
  );
  const clOut = await waitFor(
    `${clAeoIds.length} CL outbox rows delivered`,
    async () => {
      const rows = await outboxOf(s.cl.store, 'PE');
      return rows.length === clAeoIds.length && rows.every((r) => r.state === 'delivered') ? rows : undefined;
    },
    SETTLE_MS,
    250,
  );
  const atCl = await heldAt(s.cl.store, 'PE', peAeoIds);
  const atPe = await heldAt(s.peStore, 'CL', clAeoIds);
  // Every notification out: one per CL operator.
  await waitFor(
    `${clAeoIds.length} notifications`,
    async () =>
      new Set(s.receiver.on('/border').map((r) => r.headers['webhook-id'])).size >= clAeoIds.length
        ? true
        : undefined,
    SETTLE_MS,
    250,
  );
  await notificationsSettled(s.peStore, SETTLE_MS);
  const hooks = s.receiver.on('/border');
  const byId = new Map<string, string[]>();
  for (const h of hooks) {
    const id = String(h.headers['webhook-id']);
    byId.set(id, [...(byId.get(id) ?? []), h.body]);
  }
  const notified = new Set(hooks.map((h) => (JSON.parse(h.body) as { data: { aeoId: string } }).data.aeoId));
  // The same answer from every replica for every CL operator, within the bound.
  const took = await waitFor(
    'every replica to answer every CL operator alike',
    async () => {
      const start = Date.now();
      for (const aeoId of clAeoIds) {
        const answers = await Promise.all(lookupBases.map((b) => lookup(b, aeoId)));
        if (!answers.every((x) => x.recognised)) return undefined;
        const first = JSON.stringify(comparable(answers[0]!));
        if (!answers.every((x) => JSON.stringify(comparable(x)) === first)) return undefined;
      }
      return Date.now() - start + 1;
    },
    PROPAGATION_MS * 3,
    100,
  );
  return { peOut, clOut, atCl, atPe, hooks, byId, notified, took };
}

describe('two replicas behind one address', () => {
  it('R1 both up: no duplicate delivery or notification, the same lookups on both', async () => {
    const replicas = [s.a.apiUrl, s.b.apiUrl];
    const l = await load(replicas);
    const r = await settled(replicas);
    expect(r.peOut.every((o) => o.outcome === 'accepted')).toBe(true);
    expect([...r.atCl.evidence.values()].every((n) => n === 1)).toBe(true);
    expect(r.atCl.evidence.size).toBe(peRecordIds.length);
    expect(r.atPe.evidence.size).toBe(clAeoIds.length);
    expect([...r.atPe.evidence.values()].every((n) => n === 1)).toBe(true);
    expect(r.hooks.length).toBe(clAeoIds.length);
    expect(r.byId.size).toBe(clAeoIds.length);
    expect(r.notified.size).toBe(clAeoIds.length);
    // Both listeners' balancers spread connections over both replicas.
    expect([...s.apiLb.handed.values()].every((n) => n > 0)).toBe(true);
    report(
      'R1',
      `two replicas, both up: ${l.acked} decisions acknowledged, ${r.atCl.evidence.size} stored once at the partner, ` +
        `0 duplicates, 0 lost; ${clAeoIds.length} partner records, ${r.atPe.evidence.size} stored once; ` +
        `${r.hooks.length} webhooks for ${r.byId.size} events (0 duplicates); ${l.lookups} lookups on A and B, ` +
        `same answers from both for ${clAeoIds.length} operators (checked in ${r.took} ms); ` +
        `API connections A/B ${[...s.apiLb.handed.values()].join('/')}, partner connections ` +
        `${[...s.partnerLb.handed.values()].join('/')}`,
    );
  });

  it('R2 one replica SIGKILLed mid-load: the other carries on, nothing acknowledged lost, each effect once', async () => {
    const before = { pe: peRecordIds.length, cl: clAeoIds.length, hooks: s.receiver.on('/border').length };
    let killedAt = 0;
    // The victim is the replica holding the partner's open connection, so both listeners lose a peer mid-flow.
    const portOf = (url: string) => Number(new URL(url).port);
    let victim = s.b;
    let survivor = s.a;
    let partnerHeld = false;
    const l = await load([s.apiLb.url()], async () => {
      if (s.partnerLb.open(portOf(s.a.url)) > 0) [victim, survivor] = [s.a, s.b];
      partnerHeld = s.partnerLb.open(portOf(victim.url)) > 0;
      await victim.kill();
      killedAt = peRecordIds.length - before.pe;
    });
    const r = await settled([survivor.apiUrl]);
    // I1: every acknowledged decision reached the partner, every accepted partner record is held here.
    expect(r.atCl.evidence.size).toBe(peRecordIds.length);
    expect(r.atPe.evidence.size).toBe(clAeoIds.length);
    // I3 at the consumers: one stored row per record; redelivered webhooks carry the id and bytes of the first.
    expect([...r.atCl.evidence.values()].every((n) => n === 1)).toBe(true);
    expect([...r.atPe.evidence.values()].every((n) => n === 1)).toBe(true);
    expect(r.byId.size).toBe(clAeoIds.length);
    expect([...r.byId.values()].every((bodies) => bodies.every((b) => b === bodies[0]))).toBe(true);
    expect(r.notified.size).toBe(clAeoIds.length);
    const resent = r.hooks.length - r.byId.size;
    const duplicatesAnswered = r.peOut.filter((o) => o.outcome === 'duplicate').length;
    // The victim again, on the same database: it rebuilds the same answers.
    await victim.start();
    const again = await settled([s.a.apiUrl, s.b.apiUrl]);
    report(
      'R2',
      `replica ${victim === s.a ? 'A' : 'B'} (holding the partner's connection: ${partnerHeld ? 'yes' : 'no'}) killed after ${killedAt} of ${PHASE.decisions} decisions: ${l.acked} acknowledged ` +
        `(${l.retried} retried by the national system), ${peRecordIds.length - before.pe} delivered, ` +
        `${r.atCl.evidence.size} stored once at the partner in all (${duplicatesAnswered} answered duplicate), 0 lost; ` +
        `${clAeoIds.length - before.cl} more partner records, all stored once; ` +
        `${r.hooks.length - before.hooks} webhooks, ${resent} resent with the same webhook-id, 0 applied twice; ` +
        `${l.lookups} lookups through the balancer, all answered; restarted, same answers on both (${again.took} ms)`,
    );
  });
});
