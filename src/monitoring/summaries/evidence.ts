/**
 * What is held of partners' summaries, and the writing of a judged batch: the summaries kept as evidence, the
 * signed receipt, one audit entry for the receipt (whatever its outcomes) and one per kept summary, all in the
 * caller's transaction.
 */
import { type AuditEntry, appendAuditMany, summaryReceiptSentEntry } from '../../audit/chain.ts';
import { LOCKS } from '../../store/locks.ts';
import type { Sql } from '../../store/types.ts';
import type { SummaryCandidate } from './judge.ts';
import { type HeldSummaries, periodKey, revisionKey, type SummaryVerdict } from './verdict.ts';

type Kept = SummaryCandidate & { result: 'accepted' | 'superseded' };

/**
 * Summaries come once a period per partner: one lock for every batch of them is no contention, and it makes
 * two identical batches at the same moment store one copy. Any constant that no other lock uses.
 */
const SUMMARY_LOCK_KEY = LOCKS.evidenceSummary;

export async function lockSummaries(tx: Sql): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [SUMMARY_LOCK_KEY]);
}

export async function loadHeldSummaries(
  tx: Sql,
  candidates: readonly SummaryCandidate[],
): Promise<HeldSummaries> {
  const held: HeldSummaries = {
    payloadBySummaryId: new Map(),
    highestRevision: new Map(),
    summaryIdByRevision: new Map(),
  };
  if (candidates.length === 0) return held;
  const ids = JSON.stringify(candidates.map((c) => c.summary.summaryId));
  const periods = JSON.stringify(
    candidates.map(({ summary: s }) => [s.reporter, s.subject, s.mraId, s.period.from, s.period.to]),
  );
  const byId = await tx.query<{ summary_id: string; payload_sha256: string }>(
    `SELECT summary_id::text, payload_sha256 FROM monitoring_summary_in
      WHERE summary_id IN (SELECT k::uuid FROM jsonb_array_elements_text($1::jsonb) AS k)`,
    [ids],
  );
  const revisions = await tx.query<PeriodRow & { revision: string; summary_id: string }>(
    `SELECT reporter, subject, mra_id, period_from::text AS period_from, period_to::text AS period_to,
            revision::text, summary_id::text
       FROM monitoring_summary_in
      WHERE (reporter, subject, mra_id, period_from, period_to) IN
        (SELECT x->>0, x->>1, x->>2, (x->>3)::date, (x->>4)::date FROM jsonb_array_elements($1::jsonb) AS x)`,
    [periods],
  );
  for (const r of byId) held.payloadBySummaryId.set(r.summary_id, r.payload_sha256);
  for (const r of revisions) {
    const key = periodOf(r);
    const revision = Number(r.revision);
    held.summaryIdByRevision.set(revisionKey(key, revision), r.summary_id);
    const pKey = periodKey(key);
    held.highestRevision.set(pKey, Math.max(revision, held.highestRevision.get(pKey) ?? 0));
  }
  return held;
}

interface PeriodRow {
  reporter: string;
  subject: string;
  mra_id: string;
  period_from: string;
  period_to: string;
}

function periodOf(r: PeriodRow) {
  return {
    reporter: r.reporter,
    subject: r.subject,
    mraId: r.mra_id,
    period: { from: r.period_from, to: r.period_to },
  };
}

export interface SummaryReceiptRow {
  receiptId: string;
  sender: string | null;
  receivedAt: Date;
  receiptJws: string;
}

export async function writeSummaryVerdicts(
  tx: Sql,
  receipt: SummaryReceiptRow,
  verdicts: readonly SummaryVerdict[],
): Promise<void> {
  const kept = verdicts.filter((d): d is Kept => d.outcome === 'candidate');
  await tx.query(
    `INSERT INTO monitoring_summary_receipt
       (receipt_id, sender, received_at, summary_count, accepted_count, receipt_jws)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [
      receipt.receiptId,
      receipt.sender,
      receipt.receivedAt.toISOString(),
      verdicts.length,
      kept.filter((k) => k.result === 'accepted').length,
      receipt.receiptJws,
    ],
  );
  if (kept.length > 0) await insertKept(tx, receipt, kept);
  // Last in the transaction: the audit chain's lock is held until commit (src/audit/chain.ts).
  await appendAuditMany(
    tx,
    [
      summaryReceiptSentEntry(receipt.sender, receipt.receiptId, receipt.receiptJws),
      ...kept.map(receivedEntry(receipt.receiptId)),
    ],
    receipt.receivedAt,
  );
}

async function insertKept(tx: Sql, receipt: SummaryReceiptRow, kept: readonly Kept[]): Promise<void> {
  const rows = kept.map(({ summary: s, jws, digest, payloadSha256, result }) => ({
    summary_id: s.summaryId,
    reporter: s.reporter,
    subject: s.subject,
    mra_id: s.mraId,
    period_from: s.period.from,
    period_to: s.period.to,
    revision: s.revision,
    issued_at: s.issuedAt,
    jws,
    digest,
    payload_sha256: payloadSha256,
    figures: s.figures,
    outcome: result,
  }));
  await tx.query(
    `INSERT INTO monitoring_summary_in (summary_id, reporter, subject, mra_id, period_from, period_to, revision,
       issued_at, received_at, jws, digest, payload_sha256, figures, outcome, receipt_id)
     SELECT r.summary_id, r.reporter, r.subject, r.mra_id, r.period_from, r.period_to, r.revision, r.issued_at,
            $2, r.jws, r.digest, r.payload_sha256, r.figures, r.outcome, $3
       FROM jsonb_to_recordset($1::jsonb) AS r(summary_id uuid, reporter text, subject text, mra_id text,
         period_from date, period_to date, revision bigint, issued_at timestamptz, jws text, digest text,
         payload_sha256 text, figures jsonb, outcome text)`,
    [JSON.stringify(rows), receipt.receivedAt.toISOString(), receipt.receiptId],
  );
}

/** The entry of one kept summary. */
function receivedEntry(receiptId: string) {
  return ({ summary: s, digest, result }: Kept): AuditEntry => ({
    kind: 'summary-received',
    actor: s.reporter,
    subject: s.summaryId,
    digest,
    detail: {
      subject: s.subject,
      mraId: s.mraId,
      period: s.period,
      revision: s.revision,
      outcome: result,
      receiptId,
    },
  });
}
