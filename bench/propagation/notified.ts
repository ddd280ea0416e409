/**
 * Where the time from a batch's receipt at a partner to its webhook went, from the partner's notification rows
 * (PostgreSQL's clock, the same machine): receipt → notification row claimed by the relay (`enqueued_at`: the
 * commit, the relay woken, its claim) → webhook arrived at the receiver (job picked up, rows read, signed,
 * posted) → the row settled (`delivered_at`).
 */
import { type Distribution, distribution } from '../lib/stats.ts';
import { connectClient, type Setup } from './setup.ts';

export interface NotifiedStages {
  claimed: Distribution;
  posted: Distribution;
  settled: Distribution;
}

export async function notifiedStages(
  setup: Setup,
  times: readonly ReadonlyMap<string, { received: number }>[],
  hooksOf: readonly ReadonlyMap<string, number>[],
): Promise<NotifiedStages[]> {
  return Promise.all(
    setup.receivers.map(async (node, r) => {
      const db = connectClient(node.database.url);
      await db.connect();
      try {
        const rows = (
          await db.query<{ aeo_id: string; enqueued_ms: number | null; delivered_ms: number | null }>(
            `SELECT aeo_id, extract(epoch FROM enqueued_at)::float8 * 1000 AS enqueued_ms,
                    extract(epoch FROM delivered_at)::float8 * 1000 AS delivered_ms
               FROM notification WHERE aeo_id LIKE 'PEL%'`,
          )
        ).rows;
        const claimed: number[] = [];
        const posted: number[] = [];
        const settled: number[] = [];
        for (const row of rows) {
          const t = times[r]!.get(row.aeo_id);
          const hook = hooksOf[r]!.get(row.aeo_id);
          if (t === undefined || row.enqueued_ms === null) continue;
          claimed.push(row.enqueued_ms - t.received);
          if (hook !== undefined) posted.push(hook - row.enqueued_ms);
          if (hook !== undefined && row.delivered_ms !== null) settled.push(row.delivered_ms - hook);
        }
        return {
          claimed: distribution(claimed),
          posted: distribution(posted),
          settled: distribution(settled),
        };
      } finally {
        await db.end();
      }
    }),
  );
}
