/**
 * The tamper-evident audit trail: one hash chain per gateway in `audit_log`, appended inside the
 * transaction of the change it records, so an entry exists exactly when its change committed.
 *
 * Appends are serialised by a transaction-scoped advisory lock held until commit or rollback: the next
 * appender reads the last hash only once the previous one committed, so `seq` order is commit order and the
 * chain never forks. The lock is taken as late as possible in the caller's transaction (call appendAudit
 * last), since every appending transaction waits on it; the cost is one lock, one read of the last row and
 * one INSERT per batch of entries. A transaction at REPEATABLE READ or stricter would read a stale tail;
 * the primary key on `seq` then refuses the insert rather than letting the chain fork.
 */
import { createHash } from 'node:crypto';
import { recordDigest } from '../crypto/digest.ts';
import { LOCKS } from '../store/locks.ts';
import type { Sql, Store } from '../store/types.ts';
import { canonicalInstant, canonicalJson, entryHash, GENESIS_HASH } from './encoding.ts';

/**
 * The key of the advisory lock that serialises appends. Any constant works as long as every replica uses
 * the same one and no other lock does (the migration lock is 7_411_203_991; inbound batch locks are
 * SHA-256 prefixes of operator and record keys, which collide with this one with negligible probability).
 */
export const AUDIT_LOCK_KEY = LOCKS.audit;

export const AUDIT_KINDS = [
  'receipt-sent',
  'records-published',
  'receipt-received',
  'summary-issued',
  'summary-received',
  'admin-action',
  'reconciliation',
  'retention',
  'baseline',
  'mra-amended',
] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

export interface AuditEntry {
  kind: AuditKind;
  /** Who caused it: a partner's adminId, an API client id, or `gateway` for the gateway's own jobs. */
  actor: string;
  /** What it is about: a receiptId, a summaryId, a decision id, a range of records. */
  subject: string;
  /** base64url SHA-256 of the evidence it anchors (a JWS, a range of records, the detail itself). */
  digest: string;
  detail?: Record<string, unknown>;
}

/** The actor of entries the gateway writes on its own (timers, retention). */
export const GATEWAY_ACTOR = 'gateway';

export async function appendAudit(tx: Sql, entry: AuditEntry): Promise<void> {
  await appendAuditMany(tx, [entry]);
}

/** Appends the entries in order, in one statement. */
export async function appendAuditMany(
  tx: Sql,
  entries: readonly AuditEntry[],
  now = new Date(),
): Promise<void> {
  if (entries.length === 0) return;
  // The lock, then the head it guards (migration 018): one round trip.
  const [last] = await tx.query<{ seq: string; hash: string }>('SELECT seq::text, hash FROM audit_head($1)', [
    AUDIT_LOCK_KEY,
  ]);
  let seq = last === undefined ? 0 : Number(last.seq);
  let prevHash = last?.hash ?? GENESIS_HASH;
  const at = canonicalInstant(now);
  const rows = entries.map((e) => {
    seq += 1;
    // Through canonical JSON and back: what is stored is exactly what was hashed (no undefined members).
    const detail =
      e.detail === undefined ? null : (JSON.parse(canonicalJson(e.detail)) as Record<string, unknown>);
    const hash = entryHash({
      seq,
      at,
      kind: e.kind,
      actor: e.actor,
      subject: e.subject,
      digest: e.digest,
      detail,
      prevHash,
    });
    const row = {
      seq,
      kind: e.kind,
      actor: e.actor,
      subject: e.subject,
      digest: e.digest,
      detail,
      prev_hash: prevHash,
      hash,
    };
    prevHash = hash;
    return row;
  });
  await tx.query(
    `INSERT INTO audit_log (seq, at, kind, actor, subject, digest, detail, prev_hash, hash)
     SELECT r.seq, $2, r.kind, r.actor, r.subject, r.digest, r.detail, r.prev_hash, r.hash
     FROM jsonb_to_recordset($1::jsonb) AS r(seq bigint, kind text, actor text, subject text, digest text,
       detail jsonb, prev_hash text, hash text)`,
    [JSON.stringify(rows), now.toISOString()],
  );
}

/** An administrator's action: the digest anchors the canonical form of what was done. */
export function adminAction(actor: string, subject: string, detail: Record<string, unknown>): AuditEntry {
  return { kind: 'admin-action', actor, subject, digest: recordDigest(canonicalJson(detail)), detail };
}

/**
 * The digest of a range of published records: base64url SHA-256 over the lines `seq TAB recordId TAB
 * digest LF` of the home_record rows in seq order. The rows carry their record's digest, so a record whose
 * JWS retention removed still verifies.
 */
export function publishedRangeDigest(
  rows: Iterable<{ seq: string | number; recordId: string; digest: string }>,
): string {
  const hash = createHash('sha256');
  for (const r of rows) hash.update(`${r.seq}\t${r.recordId}\t${r.digest}\n`, 'utf8');
  return hash.digest('base64url');
}

/**
 * The 'records-published' entry of the home_record rows a transaction stored, in seq order: under the publishing
 * lock they are every row of seq firstSeq..lastSeq, which is what a verifier reads back.
 */
export function publishedEntry(
  actor: string,
  rows: readonly { seq: number; recordId: string; digest: string }[],
): AuditEntry {
  const firstSeq = rows[0]?.seq ?? 0;
  const lastSeq = rows.at(-1)?.seq ?? 0;
  return {
    kind: 'records-published',
    actor,
    subject: `${firstSeq}-${lastSeq}`,
    digest: publishedRangeDigest(rows),
    detail: { firstSeq, lastSeq, count: rows.length },
  };
}

/** The actor of a batch whose sender could not be identified (every record rejected before that). */
export const UNIDENTIFIED_SENDER = 'unidentified';

/** The one entry of an inbound batch: the receipt we signed, which lists every record's digest. */
export function receiptSentEntry(sender: string | null, receiptId: string, receiptJws: string): AuditEntry {
  return {
    kind: 'receipt-sent',
    actor: sender ?? UNIDENTIFIED_SENDER,
    subject: receiptId,
    digest: recordDigest(receiptJws),
  };
}

/** A receipt a partner signed for one of our batches: the proof of delivery. */
export function receiptReceivedEntry(partner: string, receiptId: string, receiptJws: string): AuditEntry {
  return { kind: 'receipt-received', actor: partner, subject: receiptId, digest: recordDigest(receiptJws) };
}

/**
 * Receipts of monitoring summaries are chained under the same kinds as those of records; `detail.table`
 * names where their evidence is kept, so that verification looks for it there and not among the records'.
 */
export const SUMMARY_RECEIPTS_SENT = 'monitoring_summary_receipt';
export const SUMMARY_RECEIPTS_RECEIVED = 'monitoring_summary_out';

/** The receipt we signed for a partner's batch of summaries, whatever the outcomes. */
export function summaryReceiptSentEntry(
  sender: string | null,
  receiptId: string,
  receiptJws: string,
): AuditEntry {
  return { ...receiptSentEntry(sender, receiptId, receiptJws), detail: { table: SUMMARY_RECEIPTS_SENT } };
}

/** The receipt a partner signed for a batch of our summaries; `count` summaries carry it. */
export function summaryReceiptReceivedEntry(
  partner: string,
  receiptId: string,
  receiptJws: string,
  count: number,
): AuditEntry {
  return {
    ...receiptReceivedEntry(partner, receiptId, receiptJws),
    detail: { table: SUMMARY_RECEIPTS_RECEIVED, count },
  };
}

/**
 * A version of a partner's MRA terms the gateway started to run with (mra_terms). Subject: the partner and
 * the instant, as the row's key; digest: the canonical JSON of the terms; detail: the terms' SHA-256 as the
 * reports show it.
 */
export function mraAmendedEntry(
  partner: string,
  since: Date,
  terms: unknown,
  termsSha256: string,
): AuditEntry {
  return {
    kind: 'mra-amended',
    actor: GATEWAY_ACTOR,
    subject: mraTermsSubject(partner, canonicalInstant(since)),
    digest: recordDigest(canonicalJson(terms)),
    detail: { partner, termsSha256 },
  };
}

/** The subject of an mra_terms row's entry: `partner SPACE since` (since as the chain spells instants). */
export function mraTermsSubject(partner: string, since: string): string {
  return `${partner} ${since}`;
}

/**
 * Runs `work` and appends the entry it yields (undefined: nothing happened, nothing to chain) in one
 * transaction, for actions that were one statement on the store.
 */
export function withAudit<T>(
  store: Store,
  work: (tx: Sql) => Promise<T>,
  entryOf: (result: T) => AuditEntry | undefined,
): Promise<T> {
  return store.transaction(async (tx) => {
    const result = await work(tx);
    const entry = entryOf(result);
    if (entry !== undefined) await appendAudit(tx, entry);
    return result;
  });
}

/** A reconciliation's outcome: the digests both sides computed and whether they agreed. */
export function reconciliationEntry(reportId: string, result: Record<string, unknown>): AuditEntry {
  return {
    kind: 'reconciliation',
    actor: GATEWAY_ACTOR,
    subject: reportId,
    digest: recordDigest(canonicalJson(result)),
    detail: result,
  };
}
