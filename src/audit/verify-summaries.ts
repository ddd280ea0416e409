/**
 * Verification of monitoring summaries, both ways. Received: each receipt we signed for a batch (anchored by
 * its 'receipt-sent' entry) against its columns, each summary kept against that receipt and its own JWS, and
 * every summary the receipt accepted or superseded still held. Issued: each summary against its JWS, and the
 * partner's receipt kept with it against its 'receipt-received' entry and what it says of that summary.
 * The figures are compared too: the report shows them as the partner signed them.
 */
import { recordDigest } from '../crypto/digest.ts';
import type { ReceiptResult } from '../protocol/receipt.ts';
import type { Sql } from '../store/types.ts';
import type { Breaks } from './breaks.ts';
import { SUMMARY_RECEIPTS_RECEIVED } from './chain.ts';
import {
  type ColumnCheck,
  columnsProblem,
  payloadOf,
  payloadSha256Of,
  sameInstant,
  sameJson,
} from './record-check.ts';
import { DEFAULT_PAGE, instantText } from './verify-chain.ts';
import { ANCHORED, anchorBreak, anchoredRows, type EvidenceCounts, tableExists } from './verify-evidence.ts';
import { KEPT_OUTCOMES, receiptPayload } from './verify-inbound.ts';

/** The columns both summary tables hold, of the table aliased `t`, as read for verification. */
function summaryColumns(t: string): string {
  return ['subject', 'reporter', 'mra_id', 'jws', 'digest', 'payload_sha256', 'figures']
    .map((c) => `${t}.${c}`)
    .concat(
      ['summary_id', 'period_from', 'period_to', 'revision'].map((c) => `${t}.${c}::text AS ${c}`),
      `${instantText(`${t}.issued_at`)} AS issued_at`,
    )
    .join(', ');
}

interface SummaryRow {
  summary_id: string;
  reporter: string;
  subject: string;
  mra_id: string;
  period_from: string;
  period_to: string;
  revision: string;
  issued_at: string;
  jws: string;
  digest: string;
  payload_sha256: string;
  figures: unknown;
}

/** A summary row against its own JWS. */
function summaryChecks(s: SummaryRow): ColumnCheck[] {
  const p = payloadOf(s.jws) ?? {};
  const period = (p.period ?? {}) as { from?: unknown; to?: unknown };
  return [
    ['digest', recordDigest(s.jws) === s.digest],
    ['summary_id', p.summaryId === s.summary_id],
    ['reporter', p.reporter === s.reporter],
    ['subject', p.subject === s.subject],
    ['mra_id', p.mraId === s.mra_id],
    ['period_from', period.from === s.period_from],
    ['period_to', period.to === s.period_to],
    ['revision', String(p.revision) === s.revision],
    ['issued_at', sameInstant(s.issued_at, p.issuedAt)],
    ['payload_sha256', payloadSha256Of(s.jws) === s.payload_sha256],
    ['figures', sameJson(p.figures, s.figures)],
  ];
}

/** Received: the receipts we signed, the summaries they kept, and nothing they kept gone. */
export async function verifySummariesReceived(
  sql: Sql,
  counts: EvidenceCounts,
  breaks: Breaks,
  page = DEFAULT_PAGE,
): Promise<void> {
  const t = ANCHORED.summaryReceipt;
  if (!(await tableExists(sql, t.table))) return;
  for await (const r of anchoredRows(sql, t, page)) {
    counts.summaryReceipts += 1;
    const anchor = anchorBreak(t, r);
    if (anchor !== undefined || r.seq === null) {
      breaks.add(anchor);
      continue;
    }
    const place = { seq: Number(r.seq), kind: t.kind, subject: r.key };
    const { p, results } = receiptPayload(r.jws);
    const [row] = await sql.query<{
      sender: string | null;
      received_at: string;
      summary_count: number;
      accepted_count: number;
    }>(
      `SELECT sender, ${instantText('received_at')} AS received_at, summary_count, accepted_count
         FROM monitoring_summary_receipt WHERE receipt_id = $1::uuid`,
      [r.key],
    );
    if (row === undefined || p === undefined) continue;
    const problem = columnsProblem(
      [
        ['receipt_id', p.receiptId === r.key],
        ['sender', (p.sender ?? null) === row.sender],
        ['received_at', sameInstant(row.received_at, p.receivedAt)],
        ['summary_count', row.summary_count === results.length],
        ['accepted_count', row.accepted_count === results.filter((x) => x.outcome === 'accepted').length],
      ],
      'what the receipt says',
    );
    if (problem !== undefined) breaks.add({ ...place, table: t.table, row: r.key, problem });
    await verifyKept(sql, { key: r.key, receivedAt: p.receivedAt, results }, place, breaks);
  }
}

async function verifyKept(
  sql: Sql,
  receipt: { key: string; receivedAt: unknown; results: readonly ReceiptResult[] },
  place: { seq: number; kind: string; subject: string },
  breaks: Breaks,
): Promise<void> {
  const rows = await sql.query<SummaryRow & { outcome: string; received_at: string }>(
    `SELECT ${summaryColumns('s')}, s.outcome, ${instantText('s.received_at')} AS received_at
       FROM monitoring_summary_in s WHERE s.receipt_id = $1::uuid ORDER BY s.summary_id`,
    [receipt.key],
  );
  const held = new Set(rows.map((s) => `${s.summary_id} ${s.digest}`));
  for (const s of rows) {
    const at = { ...place, table: 'monitoring_summary_in', row: s.summary_id };
    const result = receipt.results.find((x) => x.summaryId === s.summary_id && x.digest === s.digest);
    if (result === undefined) {
      breaks.add({
        ...at,
        problem: 'the summary and its digest are not in the receipt that acknowledged it',
      });
      continue;
    }
    const problem =
      columnsProblem(
        [
          ['outcome', result.outcome === s.outcome],
          ['received_at', sameInstant(s.received_at, receipt.receivedAt)],
        ],
        'what the receipt says',
      ) ?? columnsProblem(summaryChecks(s), 'what the JWS states');
    if (problem !== undefined) breaks.add({ ...at, problem });
  }
  for (const x of receipt.results) {
    if (!KEPT_OUTCOMES.has(x.outcome) || held.has(`${x.summaryId} ${x.digest}`)) continue;
    breaks.add({
      ...place,
      table: 'monitoring_summary_in',
      row: String(x.summaryId),
      problem: `the receipt ${x.outcome} this summary, and it is not held with that digest: deleted`,
    });
  }
}

interface IssuedRow extends SummaryRow {
  seq: string;
  delivered_at: string | null;
  receipt_id: string | null;
  receipt_jws: string | null;
  rejected_code: string | null;
  issued_seq: string | null;
  r_seq: string | null;
  r_digest: string | null;
  r_actor: string | null;
}

/** What the partner's receipt kept with an issued summary says of it, against the row's push state. */
function receiptProblem(s: IssuedRow): string | undefined {
  if (s.receipt_jws === null)
    return s.receipt_id === null && s.delivered_at === null && s.rejected_code === null
      ? undefined
      : 'receipt_id, delivered_at or rejected_code is set without a receipt';
  if (s.r_seq === null)
    return 'no receipt-received entry covers the receipt kept: inserted behind the gateway';
  if (recordDigest(s.receipt_jws) !== s.r_digest) return 'receipt_jws differs from the digest chained';
  if (s.r_actor !== s.subject) return `the entry's actor ${s.r_actor} differs from the summary's subject`;
  const p = payloadOf(s.receipt_jws);
  const results = (Array.isArray(p?.results) ? p.results : []) as ReceiptResult[];
  const result = results.find((x) => x.digest === s.digest);
  if (result === undefined) return 'the receipt kept does not list this summary';
  const rejected = result.outcome === 'rejected';
  return columnsProblem(
    [
      ['receipt_id', p?.receiptId === s.receipt_id],
      ['delivered_at', (s.delivered_at === null) === rejected],
      ['rejected_code', s.rejected_code === (rejected ? (result.code ?? 'REJECTED') : null)],
    ],
    'what the receipt says',
  );
}

/** Issued: each summary against its JWS and the partner's receipt kept with it. */
export async function verifySummariesIssued(sql: Sql, breaks: Breaks, page = DEFAULT_PAGE): Promise<void> {
  if (!(await tableExists(sql, 'monitoring_summary_out'))) return;
  let after = 0;
  for (;;) {
    const rows = await sql.query<IssuedRow>(
      `SELECT o.seq::text, ${summaryColumns('o')}, ${instantText('o.delivered_at')} AS delivered_at,
              o.receipt_id::text, o.receipt_jws, o.rejected_code,
              (SELECT min(i.seq) FROM audit_log i WHERE i.kind = 'summary-issued'
                 AND i.subject = o.summary_id::text)::text AS issued_seq,
              a.seq::text AS r_seq, a.digest AS r_digest, a.actor AS r_actor
         FROM monitoring_summary_out o
         LEFT JOIN audit_log a ON a.kind = 'receipt-received' AND a.subject = o.receipt_id::text
              AND (a.detail->>'table') = '${SUMMARY_RECEIPTS_RECEIVED}'
        WHERE o.seq > $1 ORDER BY o.seq LIMIT $2`,
      [after, page],
    );
    for (const s of rows) {
      const issued = {
        seq: s.issued_seq === null ? null : Number(s.issued_seq),
        kind: 'summary-issued',
        subject: s.summary_id,
        table: 'monitoring_summary_out',
        row: s.summary_id,
      };
      // Without its entry the row is reported by verifyAnchored already.
      const columns = columnsProblem(summaryChecks(s), 'what the JWS states');
      if (columns !== undefined && s.issued_seq !== null) breaks.add({ ...issued, problem: columns });
      const receipt = receiptProblem(s);
      if (receipt !== undefined)
        breaks.add({
          ...issued,
          ...(s.r_seq === null ? {} : { seq: Number(s.r_seq), kind: 'receipt-received' }),
          subject: s.receipt_id ?? s.summary_id,
          problem: receipt,
        });
    }
    const last = rows.at(-1);
    if (last === undefined || rows.length < page) break;
    after = Number(last.seq);
  }
}
