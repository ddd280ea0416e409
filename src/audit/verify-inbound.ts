/**
 * Verification of the records exchange received: each inbound_receipt against the receipt it keeps (anchored
 * by its 'receipt-sent' entry or the table's baseline), the receipt's columns and counts against what it
 * says, each inbound_record against its receipt and its own JWS, and every record the receipt accepted or
 * superseded still held.
 */

import type { ReceiptResult } from '../protocol/receipt.ts';
import { countOutcomes } from '../protocol/receipt-counts.ts';
import type { Sql } from '../store/types.ts';
import type { Breaks } from './breaks.ts';
import { columnsProblem, payloadOf, recordProblem, sameInstant, sameJson } from './record-check.ts';
import { DEFAULT_PAGE, instantText } from './verify-chain.ts';
import {
  ANCHORED,
  type Anchored,
  anchorBreak,
  anchoredRows,
  baselineSeq,
  type EvidenceCounts,
} from './verify-evidence.ts';

/** Outcomes whose record is kept as evidence. */
export const KEPT_OUTCOMES: ReadonlySet<string> = new Set(['accepted', 'superseded']);

interface ReceiptColumns {
  sender: string | null;
  received_at: string;
  record_count: number;
  accepted_count: number;
  outcome_counts: unknown;
}

interface InboundRecordRow {
  record_id: string;
  issuer: string;
  aeo_id: string;
  version: string;
  jws: string | null;
  jws_digest: string;
  payload_sha256: string;
  signer_fingerprint: string;
  outcome: string;
  issued_at: string;
  redacted_at: string | null;
  kept_payload: Record<string, unknown> | null;
}

/** A signed instant to look rows up by; null (matching nothing) when it is none. */
function instantOrNull(value: unknown): string | null {
  return typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? value : null;
}

/** Where a break in a receipt's evidence sits in the chain: its entry, or the baseline of its table. */
export function placeOf(r: Anchored, table: string, base: number | null, kind: string) {
  return r.seq === null
    ? { seq: base, kind: 'baseline', subject: table }
    : { seq: Number(r.seq), kind, subject: r.key };
}

/** A signed receipt's payload and its results (none when it cannot be read). */
export function receiptPayload(jws: string) {
  const p = payloadOf(jws);
  const results = (Array.isArray(p?.results) ? p.results : []) as ReceiptResult[];
  return { p, results };
}

export async function verifyInbound(
  sql: Sql,
  counts: EvidenceCounts,
  breaks: Breaks,
  page = DEFAULT_PAGE,
): Promise<void> {
  const t = ANCHORED.inbound;
  const base = await baselineSeq(sql, t.table);
  for await (const r of anchoredRows(sql, t, page)) {
    counts.inboundReceipts += 1;
    const anchor = anchorBreak(t, r);
    if (anchor !== undefined) {
      breaks.add(anchor);
      continue;
    }
    const place = placeOf(r, t.table, base, t.kind);
    const [row] = await sql.query<ReceiptColumns>(
      `SELECT sender, ${instantText('received_at')} AS received_at, record_count, accepted_count, outcome_counts
         FROM inbound_receipt WHERE receipt_id = $1::uuid`,
      [r.key],
    );
    const { p, results } = receiptPayload(r.jws);
    if (row === undefined || p === undefined) continue;
    const receiptProblem = columnsProblem(
      [
        ['receipt_id', p.receiptId === r.key],
        ['sender', (p.sender ?? null) === row.sender],
        ['received_at', sameInstant(row.received_at, p.receivedAt)],
        ['record_count', row.record_count === results.length],
        ['accepted_count', row.accepted_count === results.filter((x) => x.outcome === 'accepted').length],
        // Receipts from before the column existed have none; their baseline anchors them.
        [
          'outcome_counts',
          row.outcome_counts === null ? r.in_baseline : sameJson(row.outcome_counts, countOutcomes(results)),
        ],
      ],
      'what the receipt says',
    );
    if (receiptProblem !== undefined)
      breaks.add({ ...place, table: t.table, row: r.key, problem: receiptProblem });
    await verifyRecordsOf(sql, { key: r.key, receivedAt: p.receivedAt, results }, place, counts, breaks);
  }
  await verifyReceivedAt(sql, base, breaks);
}

/**
 * The records of a batch are read by the batch's instant, through the index on received_at (none on
 * receipt_id: it would cost every batch received). Whatever record's received_at differs from its receipt's
 * is found here, in one pass; the receipt's own received_at is checked against what it says above.
 */
async function verifyReceivedAt(sql: Sql, base: number | null, breaks: Breaks): Promise<void> {
  const [row] = await sql.query<{ record_id: string; receipt_id: string; seq: string | null; n: string }>(
    `SELECT r.record_id::text, r.receipt_id::text, a.seq::text, count(*) OVER ()::text AS n
       FROM inbound_record r JOIN inbound_receipt c ON c.receipt_id = r.receipt_id
       LEFT JOIN audit_log a ON a.kind = 'receipt-sent' AND a.subject = r.receipt_id::text
            AND (a.detail->>'table') IS NULL
      WHERE r.received_at <> c.received_at ORDER BY coalesce(a.seq, $1::bigint) NULLS LAST, r.record_id LIMIT 1`,
    [base],
  );
  if (row === undefined) return;
  breaks.addCounted(
    {
      ...(row.seq === null
        ? { seq: base, kind: 'baseline', subject: 'inbound_receipt' }
        : { seq: Number(row.seq), kind: 'receipt-sent', subject: row.receipt_id }),
      table: 'inbound_record',
      row: row.record_id,
      problem: 'received_at differs from what the receipt says',
    },
    Number(row.n),
  );
}

async function verifyRecordsOf(
  sql: Sql,
  receipt: { key: string; receivedAt: unknown; results: readonly ReceiptResult[] },
  place: { seq: number | null; kind: string; subject: string },
  counts: EvidenceCounts,
  breaks: Breaks,
): Promise<void> {
  const records = await sql.query<InboundRecordRow>(
    `SELECT record_id::text, issuer, aeo_id, version::text, jws, jws_digest, payload_sha256, signer_fingerprint,
            outcome, ${instantText('issued_at')} AS issued_at,
            ${instantText('redacted_at')} AS redacted_at, kept_payload
       FROM inbound_record WHERE received_at = $2::timestamptz AND receipt_id = $1::uuid ORDER BY record_id`,
    [receipt.key, instantOrNull(receipt.receivedAt)],
  );
  const held = new Set(records.map((x) => `${x.record_id} ${x.jws_digest}`));
  for (const x of records) {
    counts.inboundRecords += 1;
    const at = { ...place, table: 'inbound_record', row: x.record_id };
    const result = receipt.results.find((res) => res.recordId === x.record_id && res.digest === x.jws_digest);
    if (result === undefined) {
      breaks.add({ ...at, problem: 'the record and its digest are not in the receipt that acknowledged it' });
      continue;
    }
    const problem =
      columnsProblem([['outcome', result.outcome === x.outcome]], 'what the receipt says') ??
      recordProblem({
        ...x,
        digest: x.jws_digest,
        issued_at: x.issued_at,
      });
    if (problem === 'redacted') counts.redacted += 1;
    else if (problem !== undefined) breaks.add({ ...at, problem });
  }
  for (const res of receipt.results) {
    if (!KEPT_OUTCOMES.has(res.outcome) || held.has(`${res.recordId} ${res.digest}`)) continue;
    // Not found by the batch's instant: held still, when only its received_at differs (verifyReceivedAt).
    const [elsewhere] = await sql.query(
      'SELECT 1 FROM inbound_record WHERE record_id = $1::uuid AND receipt_id = $2::uuid AND jws_digest = $3',
      [res.recordId, receipt.key, res.digest],
    );
    if (elsewhere !== undefined) continue;
    breaks.add({
      ...place,
      table: 'inbound_record',
      row: String(res.recordId),
      problem: `the receipt ${res.outcome} this record, and it is not held with that digest: deleted`,
    });
  }
}
