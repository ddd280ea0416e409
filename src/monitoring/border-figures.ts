/**
 * How a partner's operators fared at our border in a period (docs/protocol.md, "Monitoring summaries"): the one
 * computation behind both the report's `inbound.figures` and the `figures` of a summary we sign, so the two
 * never disagree. A figure the gateway cannot know is left out, never 0 (latency with no measurement).
 * Recognition and the list of benefits follow the MRA terms in force at the end of the period (terms-at.ts),
 * so an amendment leaves the figures of the periods before it as they were.
 */
import { recognitionOf } from '../mra/recognition.ts';
import type { Mra, Partner } from '../mra/types.ts';
import {
  type BenefitFigures,
  type BySize,
  REASON_PATTERN,
  type SizeSplit,
  type SummaryFigures,
} from '../protocol/monitoring-summary.ts';
import { PROGRAMMES, type Programme, type Role } from '../protocol/record.ts';
import type { Sql } from '../store/types.ts';
import { versionsInEffect } from './operators-at.ts';
import { percentilesOfCounts } from './percentile.ts';
import { dayAfter, dayStart, periodInstant } from './period.ts';
import { addOutcomes, emptyOutcomes, outcomesOfReceiptJws } from './receipt-counts.ts';
import { mraAt } from './terms-at.ts';

export interface BorderFiguresQuery {
  partner: Partner;
  /** YYYY-MM-DD, included. */
  from: string;
  /** YYYY-MM-DD, included. */
  to: string;
  now: Date;
}

/** A refusal reason that is no protocol reason (or none was given) is counted under this one. */
export const UNSPECIFIED_REASON = 'unspecified';
const REASON = new RegExp(REASON_PATTERN);

/** Half-open bounds of the period as timestamps: [from 00:00Z, the day after `to` 00:00Z). */
function bounds(query: BorderFiguresQuery): [string, string] {
  return [dayStart(query.from).toISOString(), dayAfter(query.to).toISOString()];
}

export async function borderFigures(sql: Sql, query: BorderFiguresQuery): Promise<SummaryFigures> {
  const at = periodInstant(query, query.now);
  const mra = await mraAt(sql, query.partner, at);
  const figures: SummaryFigures = {
    records: await recordFigures(sql, query),
    operators: await operatorFigures(sql, query, mra, at),
    lookups: await lookupFigures(sql, query),
    benefits: await benefitFigures(sql, query, mra),
  };
  const latency = await latencyFigures(sql, query);
  if (latency !== undefined) figures.latency = latency;
  return figures;
}

async function recordFigures(
  sql: Sql,
  query: BorderFiguresQuery,
): Promise<NonNullable<SummaryFigures['records']>> {
  const [from, until] = bounds(query);
  const rows = await sql.query<{ counts: unknown; jws: string | null }>(
    `SELECT outcome_counts AS counts, CASE WHEN outcome_counts IS NULL THEN receipt_jws END AS jws
       FROM inbound_receipt WHERE sender = $1 AND received_at >= $2 AND received_at < $3`,
    [query.partner.adminId, from, until],
  );
  const total = emptyOutcomes();
  for (const r of rows) addOutcomes(total, r.jws === null ? r.counts : outcomesOfReceiptJws(r.jws));
  return total;
}

async function operatorFigures(
  sql: Sql,
  query: BorderFiguresQuery,
  mra: Mra,
  at: Date,
): Promise<NonNullable<SummaryFigures['operators']>> {
  const byProgramme = Object.fromEntries(PROGRAMMES.map((p) => [p, 0])) as Record<Programme, number>;
  // Roles as the MRA covers them: an operator is recognised for those of its roles only.
  const byRole = Object.fromEntries([...mra.roles].map((r) => [r, 0])) as Partial<Record<Role, number>>;
  const bySize: Required<BySize> = { micro: 0, small: 0, medium: 0, large: 0, unknown: 0 };
  let recognised = 0;
  for (const v of await versionsInEffect(sql, query.partner.adminId, at)) {
    if (!recognitionOf(mra, v, at).recognised) continue;
    recognised += v.count;
    byProgramme[v.programme] += v.count;
    for (const role of v.roles) {
      const n = byRole[role];
      if (n !== undefined) byRole[role] = n + v.count;
    }
    bySize[v.enterpriseSize ?? 'unknown'] += v.count;
  }
  return { recognised, byProgramme, byRole, bySize };
}

async function lookupFigures(
  sql: Sql,
  query: BorderFiguresQuery,
): Promise<NonNullable<SummaryFigures['lookups']>> {
  const rows = await sql.query<{ outcome: string; n: string }>(
    `SELECT outcome, sum(count)::text AS n FROM lookup_daily
      WHERE issuer = $1 AND day >= $2::date AND day <= $3::date GROUP BY outcome ORDER BY outcome`,
    [query.partner.adminId, query.from, query.to],
  );
  let total = 0;
  let recognised = 0;
  const notRecognised: Record<string, number> = {};
  for (const r of rows) {
    const n = Number(r.n);
    total += n;
    if (r.outcome === 'recognised') recognised += n;
    else {
      const reason = REASON.test(r.outcome) ? r.outcome : UNSPECIFIED_REASON;
      notRecognised[reason] = (notRecognised[reason] ?? 0) + n;
    }
  }
  return { total, recognised, notRecognised };
}

const sizeSplit = (): Required<SizeSplit> => ({ sme: 0, large: 0, unknown: 0 });

function splitOf(size: string | null): keyof SizeSplit {
  if (size === 'micro' || size === 'small' || size === 'medium') return 'sme';
  return size === 'large' ? 'large' : 'unknown';
}

async function benefitFigures(sql: Sql, query: BorderFiguresQuery, mra: Mra): Promise<BenefitFigures[]> {
  const [from, until] = bounds(query);
  const rows = await sql.query<{
    benefit: string;
    applied: boolean;
    size: string | null;
    reason: string | null;
    n: string;
  }>(
    `SELECT benefit, applied, enterprise_size AS size, CASE WHEN applied THEN NULL ELSE reason END AS reason,
            count(*)::text AS n
       FROM border_feedback WHERE issuer = $1 AND at >= $2 AND at < $3
      GROUP BY 1, 2, 3, 4`,
    [query.partner.adminId, from, until],
  );
  const figures = new Map<string, Required<BenefitFigures>>(
    mra.benefits.map((b) => [
      b.id,
      { benefitId: b.id, applied: sizeSplit(), refused: sizeSplit(), refusalReasons: {} },
    ]),
  );
  for (const r of rows) {
    // Feedback is refused for a benefit its MRA does not grant; one dropped by an amendment is left out here.
    const f = figures.get(r.benefit);
    if (f === undefined) continue;
    const n = Number(r.n);
    const split = r.applied ? f.applied : f.refused;
    split[splitOf(r.size)] += n;
    if (!r.applied) {
      const reason = r.reason !== null && REASON.test(r.reason) ? r.reason : UNSPECIFIED_REASON;
      f.refusalReasons[reason] = (f.refusalReasons[reason] ?? 0) + n;
    }
  }
  return [...figures.values()];
}

async function latencyFigures(sql: Sql, query: BorderFiguresQuery): Promise<SummaryFigures['latency']> {
  const [from, until] = bounds(query);
  // Counted by whole millisecond in the database: a period of a million records crosses as a few thousand rows.
  const rows = await sql.query<{ figure: 'receipt' | 'border'; ms: number | string; n: string }>(
    `WITH t AS MATERIALIZED (
       SELECT floor(extract(epoch FROM r.received_at - r.issued_at) * 1000)::float8 AS receipt_ms,
              (SELECT floor(extract(epoch FROM min(n.delivered_at) - r.issued_at) * 1000)::float8
                 FROM notification n
                WHERE n.issuer = r.issuer AND n.aeo_id = r.aeo_id AND n.version = r.version
                  AND n.delivered_at IS NOT NULL) AS border_ms
         FROM inbound_record r
        WHERE r.issuer = $1 AND r.outcome = 'accepted' AND r.received_at >= $2 AND r.received_at < $3
     )
     SELECT 'receipt' AS figure, receipt_ms AS ms, count(*)::text AS n FROM t GROUP BY receipt_ms
     UNION ALL
     SELECT 'border', border_ms, count(*)::text FROM t WHERE border_ms IS NOT NULL GROUP BY border_ms`,
    [query.partner.adminId, from, until],
  );
  const of = (figure: 'receipt' | 'border') =>
    percentilesOfCounts(
      rows.filter((r) => r.figure === figure).map((r) => [Number(r.ms), Number(r.n)] as const),
    );
  const toReceipt = of('receipt');
  const toBorder = of('border');
  if (toReceipt === undefined && toBorder === undefined) return undefined;
  return {
    ...(toReceipt === undefined ? {} : { toReceiptMs: toReceipt }),
    ...(toBorder === undefined ? {} : { toBorderMs: toBorder }),
  };
}
