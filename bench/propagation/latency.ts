/** Phase 1 of the propagation benchmark: latency at a steady rate, and where the time went. */
import { Pool } from 'undici';
import { cpuByProcess, cpuSample } from '../lib/cpu.ts';
import { type Distribution, distribution } from '../lib/stats.ts';
import { certify, latencyId, steady } from './decisions.ts';
import { type NotifiedStages, notifiedStages } from './notified.ts';
import { DRAIN_MS, type Options, PUBLISHER, RECEIVERS, sleep, wallNow } from './options.ts';
import { connectClient, databases, type Setup, watched } from './setup.ts';
import type { WebhookArrivals } from './webhooks.ts';

export interface PartnerLatency {
  adminId: string;
  /** Publish call to the first poll that found the record in operator_state (upper bound of applied). */
  applied: Distribution;
  /** The applied times themselves, to pool several runs. */
  appliedMs: number[];
  /** Publish call to the notification's arrival at the border system's webhook receiver (what the aim counts). */
  webhook: Distribution;
  /** The webhook times themselves, to pool several runs. */
  webhookMs: number[];
  /** Decisions whose webhook had not arrived when the drain wait ended. */
  webhookMissing: number;
  /** Publish call to the receiver's inbound_record.received_at (its batch arrived; lower bound). */
  received: Distribution;
  /** The same time cut in stages, from the publisher's outbox row (PostgreSQL's clock, the same machine). */
  stages: {
    enqueued: Distribution;
    /** The decisions API's answer to the relay's claim: the relay's share of `enqueued` (negative: claimed first). */
    answeredToClaim: Distribution;
    transfer: Distribution;
    apply: Distribution;
    settled: Distribution;
    /** A batch's receipt kept to the partner's next claim, where that claim held rows already waiting. */
    turnaround: Distribution;
    /** The batch received at the partner to the webhook's arrival (applied, notification sent and signed). */
    notified: Distribution;
    /** The same cut at the partner: received → notification claimed → webhook arrived → row settled. */
    notification: NotifiedStages;
  };
  missing: number;
}

export interface LatencyRun {
  decisions: number;
  achievedRate: number;
  api: Distribution;
  partners: PartnerLatency[];
  cpu: [string, number][];
  seconds: number;
}

/** One latency run; `first` numbers its first decision, so that every run publishes operators of its own. */
export async function phaseLatency(
  setup: Setup,
  options: Options,
  hooks: WebhookArrivals,
  first = 0,
): Promise<LatencyRun> {
  const count = options.rate * options.seconds;
  const api = new Pool(setup.publisher.apiUrl, { connections: 64 });
  const apiTimes: number[] = [];
  const waiting = setup.receivers.map(() => new Map<string, number>());
  const applied = setup.receivers.map((): number[] => []);
  const received = setup.receivers.map((): number[] => []);
  /** Per partner and operator: publish call, received_at, first seen applied (wall-clock ms). */
  const times = setup.receivers.map(() => new Map<string, { t0: number; received: number; seen: number }>());
  /** Every decision of the run accepted by the API: aeoId → publish call (wall-clock ms). */
  const sent = new Map<string, number>();
  /** aeoId → the API's answer to its call (wall-clock ms). */
  const answered = new Map<string, number>();
  const hooksOf = setup.receivers.map((node) => hooks.first.get(node.adminId)!);
  /** Webhooks still awaited of the decisions sent so far, per partner. */
  const hooksMissing = () => hooksOf.map((got) => [...sent.keys()].filter((id) => !got.has(id)).length);
  let publishing = true;

  // One poller per partner: the records still awaited, in one query, every pollMs.
  const pollers = setup.receivers.map(async (node, r) => {
    const db = connectClient(node.database.url);
    await db.connect();
    try {
      const pending = waiting[r]!;
      for (;;) {
        const drained = !publishing && pending.size === 0;
        if (drained) return;
        const ids = [...pending.keys()];
        if (ids.length > 0) {
          const rows =
            // Prepared once per connection: the probe's own cost on the partner's database stays small.
            (
              await db.query<{ aeo_id: string; received_ms: number }>({
                name: 'applied',
                text: `SELECT s.aeo_id, extract(epoch FROM r.received_at)::float8 * 1000 AS received_ms
                 FROM operator_state s JOIN inbound_record r ON r.record_id = s.record_id
                WHERE s.issuer = $1 AND s.aeo_id = ANY($2::text[])`,
                values: [PUBLISHER, ids],
              })
            ).rows;
          // The rows were committed before the query's snapshot, which was taken before its answer came.
          const seen = wallNow();
          for (const row of rows) {
            const t0 = pending.get(row.aeo_id);
            if (t0 === undefined) continue;
            pending.delete(row.aeo_id);
            applied[r]!.push(seen - t0);
            received[r]!.push(row.received_ms - t0);
            times[r]!.set(row.aeo_id, { t0, received: row.received_ms, seen });
          }
        }
        await sleep(options.pollMs);
      }
    } finally {
      await db.end();
    }
  });

  // A poller that fails (its database gone) fails the run once the calls are done, never the process at once:
  // the clean-up must still run.
  const polled = Promise.all(pollers);
  polled.catch(() => {});
  const before = await cpuSample(watched(setup), databases(setup));
  const started = performance.now();
  let result: { seconds: number };
  try {
    result = await steady(count, options.rate, async (i) => {
      const aeoId = latencyId(first + i);
      const body = JSON.stringify(certify(aeoId, first + i));
      const t0 = wallNow();
      for (const pending of waiting) pending.set(aeoId, t0);
      sent.set(aeoId, t0);
      const res = await api.request({
        path: '/api/v1/decisions',
        method: 'POST',
        headers: { authorization: `Bearer ${setup.token}`, 'content-type': 'application/json' },
        body,
      });
      const text = await res.body.text();
      answered.set(aeoId, wallNow());
      apiTimes.push(answered.get(aeoId)! - t0);
      if (res.statusCode !== 201) {
        for (const pending of waiting) pending.delete(aeoId);
        sent.delete(aeoId);
        throw new Error(`decision refused: HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
      }
      const partners = (JSON.parse(text) as { record: { partners: string[] } | null }).record?.partners ?? [];
      if (partners.join(',') !== [...RECEIVERS].sort().join(','))
        throw new Error(`decision for ${aeoId} published to [${partners.join(', ')}], not to CL and AR`);
    });
  } finally {
    publishing = false;
  }
  // The partners get DRAIN_MS after the last call to apply the rest and send their webhooks; what is still
  // missing then is reported.
  const drainUntil = performance.now() + DRAIN_MS;
  const drained = polled;
  const pendingHooks = () => hooksMissing().some((n) => n > 0);
  while ((waiting.some((w) => w.size > 0) || pendingHooks()) && performance.now() < drainUntil)
    await sleep(50);
  const missing = waiting.map((w) => w.size);
  const webhookMissing = hooksMissing();
  const webhook = hooksOf.map((got) => {
    const out: number[] = [];
    for (const [aeoId, t0] of sent) {
      const at = got.get(aeoId);
      if (at !== undefined) out.push(at - t0);
    }
    return out;
  });
  for (const w of waiting) w.clear();
  await drained;
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuByProcess(before, await cpuSample(watched(setup), databases(setup)));
  await api.close();
  const stages = await latencyStages(setup, times, answered);
  const notification = await notifiedStages(setup, times, hooksOf);
  const notified = hooksOf.map((got, r) => {
    const out: number[] = [];
    for (const [aeoId, t] of times[r]!) {
      const at = got.get(aeoId);
      if (at !== undefined) out.push(at - t.received);
    }
    return distribution(out);
  });
  return {
    decisions: count,
    achievedRate: result.seconds > 0 ? (count - 1) / result.seconds : count,
    api: distribution(apiTimes),
    partners: setup.receivers.map((node, r) => ({
      adminId: node.adminId,
      applied: distribution(applied[r]!),
      appliedMs: applied[r]!,
      webhook: distribution(webhook[r]!),
      webhookMs: webhook[r]!,
      webhookMissing: webhookMissing[r]!,
      received: distribution(received[r]!),
      stages: { ...stages[r]!, notified: notified[r]!, notification: notification[r]! },
      missing: missing[r]!,
    })),
    cpu,
    seconds,
  };
}

/**
 * Where the time of phase 1 went, per partner, from the publisher's outbox rows: publish call → row claimed by
 * the relay (`enqueued_at`: the decision committed, the relay woke and claimed it), → batch received by the
 * partner (BullMQ job picked up, request sent; the partner's `received_at`), → record seen applied (verified,
 * committed, then found by the poll), and the receipt settled at the publisher (`delivered_at`) after the call.
 */
async function latencyStages(
  setup: Setup,
  times: readonly Map<string, { t0: number; received: number; seen: number }>[],
  answered: ReadonlyMap<string, number>,
): Promise<Omit<PartnerLatency['stages'], 'notified' | 'notification'>[]> {
  const db = connectClient(setup.publisher.database.url);
  await db.connect();
  try {
    const rows = (
      await db.query<{
        aeo_id: string;
        partner: string;
        enqueued_ms: number | null;
        delivered_ms: number | null;
        job_id: string | null;
        created_ms: number;
      }>(
        `SELECT h.aeo_id, o.partner, o.job_id, extract(epoch FROM o.created_at)::float8 * 1000 AS created_ms,
                extract(epoch FROM o.enqueued_at)::float8 * 1000 AS enqueued_ms,
                extract(epoch FROM o.delivered_at)::float8 * 1000 AS delivered_ms
           FROM outbox o JOIN home_record h ON h.seq = o.record_seq
          WHERE h.aeo_id LIKE 'PEL%'`,
      )
    ).rows;
    return setup.receivers.map((node, r) => {
      const enqueued: number[] = [];
      const answeredToClaim: number[] = [];
      const transfer: number[] = [];
      const apply: number[] = [];
      const settled: number[] = [];
      for (const row of rows) {
        const t = row.partner === node.adminId ? times[r]!.get(row.aeo_id) : undefined;
        if (t === undefined || row.enqueued_ms === null) continue;
        enqueued.push(row.enqueued_ms - t.t0);
        const answer = answered.get(row.aeo_id);
        if (answer !== undefined) answeredToClaim.push(row.enqueued_ms - answer);
        transfer.push(t.received - row.enqueued_ms);
        apply.push(t.seen - t.received);
        if (row.delivered_ms !== null) settled.push(row.delivered_ms - t.t0);
      }
      return {
        turnaround: distribution(turnarounds(rows, node.adminId, times[r]!)),
        enqueued: distribution(enqueued),
        answeredToClaim: distribution(answeredToClaim),
        transfer: distribution(transfer),
        apply: distribution(apply),
        settled: distribution(settled),
      };
    });
  } finally {
    await db.end();
  }
}

/**
 * The relay's turnaround per partner: from a batch's receipt kept (`delivered_at`) to the claim of the next batch
 * (`enqueued_at`), counted only where the next batch held a row written before that receipt (`created_at`), i.e.
 * rows that were waiting for the batch in flight. One batch in flight per partner makes this gap part of their latency.
 */
function turnarounds(
  rows: readonly {
    aeo_id: string;
    partner: string;
    job_id: string | null;
    created_ms: number;
    enqueued_ms: number | null;
    delivered_ms: number | null;
  }[],
  partner: string,
  times: ReadonlyMap<string, { t0: number }>,
): number[] {
  const jobs = new Map<string, { claimed: number; kept: number; firstRow: number }>();
  for (const row of rows) {
    const t = times.get(row.aeo_id);
    if (row.partner !== partner || t === undefined || row.job_id === null || row.enqueued_ms === null)
      continue;
    const job = jobs.get(row.job_id) ?? {
      claimed: row.enqueued_ms,
      kept: row.delivered_ms ?? Number.NaN,
      firstRow: row.created_ms,
    };
    job.firstRow = Math.min(job.firstRow, row.created_ms);
    jobs.set(row.job_id, job);
  }
  const ordered = [...jobs.values()].sort((a, b) => a.claimed - b.claimed);
  const gaps: number[] = [];
  for (let i = 1; i < ordered.length; i++) {
    const before = ordered[i - 1]!;
    const next = ordered[i]!;
    if (!Number.isNaN(before.kept) && next.firstRow < before.kept) gaps.push(next.claimed - before.kept);
  }
  return gaps;
}
