/**
 * The summaries held, for the API (`GET /api/v1/monitoring/summaries`): those issued with their push state, and
 * those received with their outcome, newest first, each with its figures exactly as signed.
 */
import type { Period, SummaryFigures } from '../../protocol/monitoring-summary.ts';
import type { Sql } from '../../store/types.ts';
import { payloadOfJws } from './issue.ts';

export const SUMMARY_DIRECTIONS = ['issued', 'received'] as const;
export type SummaryDirection = (typeof SUMMARY_DIRECTIONS)[number];

/** Where the push of an issued summary stands. */
export interface PushState {
  state: 'delivered' | 'pending' | 'rejected';
  deliveredAt: string | null;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  /** The partner's rejection code, when its receipt rejected the summary. */
  rejectedCode: string | null;
  /** The partner's receipt, kept as proof of delivery. */
  receiptId: string | null;
}

export interface ListedSummary {
  summaryId: string;
  reporter: string;
  subject: string;
  mraId: string;
  period: Period;
  revision: number;
  issuedAt: string;
  /** base64url SHA-256 of the compact JWS: the handle of the evidence and of its audit entry. */
  digest: string;
  figures: SummaryFigures;
  jws: string;
  /** Issued: its push state. */
  push?: PushState;
  /** Received: when, with what outcome, under which receipt of ours. */
  received?: { at: string; outcome: 'accepted' | 'superseded'; receiptId: string };
}

interface CommonRow {
  summary_id: string;
  reporter: string;
  subject: string;
  mra_id: string;
  period_from: string;
  period_to: string;
  revision: string;
  digest: string;
  figures: SummaryFigures;
  jws: string;
}

const COMMON = `summary_id::text, reporter, subject, mra_id, period_from::text AS period_from,
  period_to::text AS period_to, revision::text, digest, figures, jws`;

export async function listSummaries(
  sql: Sql,
  query: { partner: string | undefined; direction: SummaryDirection; limit: number },
): Promise<ListedSummary[]> {
  if (query.direction === 'issued') {
    const rows = await sql.query<
      CommonRow & {
        delivered_at: unknown;
        attempts: number;
        next_attempt_at: unknown;
        last_error: string | null;
        rejected_code: string | null;
        receipt_id: string | null;
      }
    >(
      `SELECT ${COMMON}, delivered_at, attempts, next_attempt_at, last_error, rejected_code, receipt_id::text
         FROM monitoring_summary_out WHERE ($1::text IS NULL OR subject = $1) ORDER BY seq DESC LIMIT $2`,
      [query.partner ?? null, query.limit],
    );
    return rows.map((r) => ({ ...common(r), push: pushStateOf(r) }));
  }
  const rows = await sql.query<CommonRow & { received_at: unknown; outcome: string; receipt_id: string }>(
    `SELECT ${COMMON}, received_at, outcome, receipt_id::text FROM monitoring_summary_in
      WHERE ($1::text IS NULL OR reporter = $1) ORDER BY received_at DESC, summary_id LIMIT $2`,
    [query.partner ?? null, query.limit],
  );
  return rows.map((r) => ({
    ...common(r),
    received: {
      at: iso(r.received_at) ?? '',
      outcome: r.outcome === 'superseded' ? 'superseded' : 'accepted',
      receiptId: r.receipt_id,
    },
  }));
}

export function pushStateOf(r: {
  delivered_at: unknown;
  attempts: number;
  next_attempt_at: unknown;
  last_error: string | null;
  rejected_code: string | null;
  receipt_id: string | null;
}): PushState {
  const deliveredAt = iso(r.delivered_at);
  return {
    state: deliveredAt !== null ? 'delivered' : r.rejected_code !== null ? 'rejected' : 'pending',
    deliveredAt,
    attempts: Number(r.attempts),
    nextAttemptAt: deliveredAt === null && r.rejected_code === null ? iso(r.next_attempt_at) : null,
    lastError: r.last_error,
    rejectedCode: r.rejected_code,
    receiptId: r.receipt_id,
  };
}

/** The push state of one issued summary. */
export async function pushStateOfSummary(sql: Sql, summaryId: string): Promise<PushState | undefined> {
  const [row] = await sql.query<Parameters<typeof pushStateOf>[0]>(
    `SELECT delivered_at, attempts, next_attempt_at, last_error, rejected_code, receipt_id::text
       FROM monitoring_summary_out WHERE summary_id = $1`,
    [summaryId],
  );
  return row === undefined ? undefined : pushStateOf(row);
}

function common(r: CommonRow): Omit<ListedSummary, 'push' | 'received'> {
  return {
    summaryId: r.summary_id,
    reporter: r.reporter,
    subject: r.subject,
    mraId: r.mra_id,
    period: { from: r.period_from, to: r.period_to },
    revision: Number(r.revision),
    // As signed: the store keeps microseconds, a partner's timestamp may carry nanoseconds.
    issuedAt: payloadOfJws(r.jws).issuedAt,
    digest: r.digest,
    figures: r.figures,
    jws: r.jws,
  };
}

/** A timestamptz as the store hands it back (a Date, or text), in RFC 3339 UTC. */
function iso(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const at = value instanceof Date ? value : new Date(String(value));
  return Number.isNaN(at.getTime()) ? null : at.toISOString();
}
