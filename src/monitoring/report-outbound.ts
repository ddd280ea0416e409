/**
 * The report's outbound side: our register, what we published to the partner in the period, where its
 * delivery stands and how long the partner took to acknowledge it (docs/monitoring.md).
 */
import type { Sql } from '../store/types.ts';
import { percentilesOfCounts } from './percentile.ts';
import type { Counts, LatencyPercentiles, MonitoringReport } from './report-types.ts';

type Outbound = MonitoringReport['outbound'];

export interface OutboundQuery {
  partner: string;
  /** Inclusive, UTC midnight of period.from. */
  from: string;
  /** Exclusive, UTC midnight after period.to. */
  until: string;
  /** End of the period, or now when earlier. */
  at: string;
}

const SIZES = ['micro', 'small', 'medium', 'large', 'unknown'] as const;

function countsOf(rows: readonly { key: string | null; n: string }[], keys: readonly string[] = []): Counts {
  const counts: Counts = Object.fromEntries(keys.map((k) => [k, 0]));
  for (const r of rows) {
    const key = r.key ?? 'unknown';
    counts[key] = (counts[key] ?? 0) + Number(r.n);
  }
  return counts;
}

/** The national register as it stands now (home_operator keeps no history of consent or size). */
export async function registerFigures(sql: Sql, q: OutboundQuery): Promise<Outbound['register']> {
  const group = (expr: string) =>
    sql.query<{ key: string | null; n: string }>(
      `SELECT ${expr} AS key, count(*)::text AS n FROM home_operator GROUP BY 1 ORDER BY 1`,
    );
  const [total] = await sql.query<{ operators: string; consenting: string }>(
    `SELECT count(*)::text AS operators, count(*) FILTER (WHERE consent)::text AS consenting FROM home_operator`,
  );
  const byStatus = countsOf(await group('status'));
  const byProgramme = countsOf(await group('programme'));
  const byRole = countsOf(
    await sql.query<{ key: string | null; n: string }>(
      `SELECT role AS key, count(*)::text AS n
         FROM home_operator CROSS JOIN LATERAL jsonb_array_elements_text(coalesce(operator->'roles', '[]')) AS role
        GROUP BY 1 ORDER BY 1`,
    ),
  );
  const bySize = countsOf(await group(`coalesce(operator->>'enterpriseSize', 'unknown')`), SIZES);
  const [published] = await sql.query<{ n: string }>(
    `SELECT count(DISTINCT h.aeo_id)::text AS n FROM outbox o JOIN home_record h ON h.seq = o.record_seq
      WHERE o.partner = $1 AND o.created_at <= $2`,
    [q.partner, q.at],
  );
  return {
    operators: Number(total?.operators ?? 0),
    consenting: Number(total?.consenting ?? 0),
    byStatus,
    byProgramme,
    byRole,
    bySize,
    publishedToPartner: Number(published?.n ?? 0),
  };
}

interface OutboxRow {
  state: string;
  status: string;
  retried: boolean;
  outcome: string | null;
  code: string | null;
  latency_ms: number | string | null;
  n: string;
}

export async function outboundFigures(
  sql: Sql,
  q: OutboundQuery,
): Promise<Omit<Outbound, 'register' | 'partnerSummary'>> {
  // Counted in the database by what the figures tell apart (latency by whole millisecond): a period of a
  // million records crosses as a few thousand rows. The partner's rejection code is kept at the head of
  // last_error ("CODE: detail", delivery/outbox-rows.ts).
  const rows = await sql.query<OutboxRow>(
    `SELECT o.state, h.status, o.attempts > 1 AS retried, o.outcome,
            CASE WHEN o.outcome = 'rejected' THEN split_part(o.last_error, ':', 1) END AS code,
            CASE WHEN o.delivered_at IS NOT NULL
              THEN floor(extract(epoch FROM o.delivered_at - h.created_at) * 1000)::float8 END AS latency_ms,
            count(*)::text AS n
       FROM outbox o JOIN home_record h ON h.seq = o.record_seq
      WHERE o.partner = $1 AND o.created_at >= $2 AND o.created_at < $3
      GROUP BY 1, 2, 3, 4, 5, 6`,
    [q.partner, q.from, q.until],
  );
  const byStatus: Counts = {};
  const outcomes = { accepted: 0, duplicate: 0, superseded: 0, rejected: {} as Counts };
  let published = 0;
  let delivered = 0;
  let retried = 0;
  let dead = 0;
  const latencies: [number, number][] = [];
  for (const r of rows) {
    const n = Number(r.n);
    published += n;
    byStatus[r.status] = (byStatus[r.status] ?? 0) + n;
    if (r.state === 'delivered') delivered += n;
    if (r.state === 'dead') dead += n;
    if (r.retried) retried += n;
    if (r.outcome === 'accepted' || r.outcome === 'duplicate' || r.outcome === 'superseded') {
      outcomes[r.outcome] += n;
    } else if (r.outcome === 'rejected') {
      const code = r.code === null || r.code === '' ? 'REJECTED' : r.code;
      outcomes.rejected[code] = (outcomes.rejected[code] ?? 0) + n;
    }
    if (r.latency_ms !== null) latencies.push([Number(r.latency_ms), n]);
  }
  const [open] = await sql.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM outbox WHERE partner = $1 AND state IN ('pending', 'retrying')`,
    [q.partner],
  );
  return {
    records: { published, byStatus },
    deliveries: { delivered, retried, dead, backlog: Number(open?.n ?? 0), outcomes },
    latency: { toReceiptMs: latencyOf(latencies) },
  };
}

/** Latency percentiles of [milliseconds, how many] and how many were measured. */
export function latencyOf(counts: readonly (readonly [number, number])[]): LatencyPercentiles {
  const p = percentilesOfCounts(counts);
  const count = counts.reduce((sum, [, n]) => sum + n, 0);
  return { count, p50: p?.p50 ?? null, p95: p?.p95 ?? null, p99: p?.p99 ?? null };
}
