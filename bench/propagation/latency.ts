/** Phase 1 of the propagation benchmark: latency at a steady rate, and where the time went. */
import { Pool } from 'undici';
import { cpuByProcess, cpuSample } from '../lib/cpu.ts';
import { type Distribution, distribution } from '../lib/stats.ts';
import { certify, latencyId, steady } from './decisions.ts';
import { DRAIN_MS, type Options, PUBLISHER, RECEIVERS, sleep, wallNow } from './options.ts';
import { connectClient, databases, type Setup, watched } from './setup.ts';

export interface PartnerLatency {
  adminId: string;
  /** Publish call to the first poll that found the record in operator_state (upper bound of applied). */
  applied: Distribution;
  /** Publish call to the receiver's inbound_record.received_at (its batch arrived; lower bound). */
  received: Distribution;
  /** The same time cut in stages, from the publisher's outbox row (PostgreSQL's clock, the same machine). */
  stages: { enqueued: Distribution; transfer: Distribution; apply: Distribution; settled: Distribution };
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

export async function phaseLatency(setup: Setup, options: Options): Promise<LatencyRun> {
  const count = options.rate * options.seconds;
  const api = new Pool(setup.publisher.apiUrl, { connections: 64 });
  const apiTimes: number[] = [];
  const waiting = setup.receivers.map(() => new Map<string, number>());
  const applied = setup.receivers.map((): number[] => []);
  const received = setup.receivers.map((): number[] => []);
  /** Per partner and operator: publish call, received_at, first seen applied (wall-clock ms). */
  const times = setup.receivers.map(() => new Map<string, { t0: number; received: number; seen: number }>());
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
          const rows = (
            await db.query<{ aeo_id: string; received_ms: number }>(
              `SELECT s.aeo_id, extract(epoch FROM r.received_at)::float8 * 1000 AS received_ms
                 FROM operator_state s JOIN inbound_record r ON r.record_id = s.record_id
                WHERE s.issuer = $1 AND s.aeo_id = ANY($2::text[])`,
              [PUBLISHER, ids],
            )
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

  const before = await cpuSample(watched(setup), databases(setup));
  const started = performance.now();
  let result: { seconds: number };
  try {
    result = await steady(count, options.rate, async (i) => {
      const aeoId = latencyId(i);
      const body = JSON.stringify(certify(aeoId, i));
      const t0 = wallNow();
      for (const pending of waiting) pending.set(aeoId, t0);
      const res = await api.request({
        path: '/api/v1/decisions',
        method: 'POST',
        headers: { authorization: `Bearer ${setup.token}`, 'content-type': 'application/json' },
        body,
      });
      const text = await res.body.text();
      apiTimes.push(wallNow() - t0);
      if (res.statusCode !== 201) {
        for (const pending of waiting) pending.delete(aeoId);
        throw new Error(`decision refused: HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
      }
      const partners = (JSON.parse(text) as { record: { partners: string[] } | null }).record?.partners ?? [];
      if (partners.join(',') !== [...RECEIVERS].sort().join(','))
        throw new Error(`decision for ${aeoId} published to [${partners.join(', ')}], not to CL and AR`);
    });
  } finally {
    publishing = false;
  }
  // The partners get DRAIN_MS after the last call to apply the rest; what is still missing then is reported.
  const drainUntil = performance.now() + DRAIN_MS;
  const drained = Promise.all(pollers);
  while (waiting.some((w) => w.size > 0) && performance.now() < drainUntil) await sleep(50);
  const missing = waiting.map((w) => w.size);
  for (const w of waiting) w.clear();
  await drained;
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuByProcess(before, await cpuSample(watched(setup), databases(setup)));
  await api.close();
  const stages = await latencyStages(setup, times);
  return {
    decisions: count,
    achievedRate: result.seconds > 0 ? (count - 1) / result.seconds : count,
    api: distribution(apiTimes),
    partners: setup.receivers.map((node, r) => ({
      adminId: node.adminId,
      applied: distribution(applied[r]!),
      received: distribution(received[r]!),
      stages: stages[r]!,
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
): Promise<PartnerLatency['stages'][]> {
  const db = connectClient(setup.publisher.database.url);
  await db.connect();
  try {
    const rows = (
      await db.query<{
        aeo_id: string;
        partner: string;
        enqueued_ms: number | null;
        delivered_ms: number | null;
      }>(
        `SELECT h.aeo_id, o.partner, extract(epoch FROM o.enqueued_at)::float8 * 1000 AS enqueued_ms,
                extract(epoch FROM o.delivered_at)::float8 * 1000 AS delivered_ms
           FROM outbox o JOIN home_record h ON h.seq = o.record_seq
          WHERE h.aeo_id LIKE 'PEL%'`,
      )
    ).rows;
    return setup.receivers.map((node, r) => {
      const enqueued: number[] = [];
      const transfer: number[] = [];
      const apply: number[] = [];
      const settled: number[] = [];
      for (const row of rows) {
        const t = row.partner === node.adminId ? times[r]!.get(row.aeo_id) : undefined;
        if (t === undefined || row.enqueued_ms === null) continue;
        enqueued.push(row.enqueued_ms - t.t0);
        transfer.push(t.received - row.enqueued_ms);
        apply.push(t.seen - t.received);
        if (row.delivered_ms !== null) settled.push(row.delivered_ms - t.t0);
      }
      return {
        enqueued: distribution(enqueued),
        transfer: distribution(transfer),
        apply: distribution(apply),
        settled: distribution(settled),
      };
    });
  } finally {
    await db.end();
  }
}
