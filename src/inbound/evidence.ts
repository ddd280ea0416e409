/** Loads what is held for a batch and writes its verdicts: evidence, current state, identifiers, receipt. */
import { createHash } from 'node:crypto';
import { countOutcomes } from '../protocol/receipt-counts.ts';
import type { Sql } from '../store/types.ts';
import type { Candidate } from './judge.ts';
import { type HeldFacts, operatorKey, type Verdict } from './verdict.ts';

type Accepted = Candidate & { result: 'accepted' | 'superseded' };

/**
 * Serialises batches that touch the same operators or recordIds (docs/threats.md 64: two identical batches at the
 * same moment store one copy). Keys are locked in sorted order so concurrent batches cannot deadlock.
 */
export async function lockBatch(tx: Sql, candidates: readonly Candidate[]): Promise<void> {
  const keys = new Set<string>();
  for (const c of candidates) {
    keys.add(lockKey(`op:${c.record.issuer}/${c.record.operator.aeoId}`));
    keys.add(lockKey(`rec:${c.record.recordId}`));
  }
  if (keys.size === 0) return;
  const sorted = [...keys].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  await tx.query(
    'SELECT count(pg_advisory_xact_lock(k::bigint)) FROM jsonb_array_elements_text($1::jsonb) AS k',
    [JSON.stringify(sorted)],
  );
}

function lockKey(text: string): string {
  return createHash('sha256').update(text).digest().readBigInt64BE(0).toString();
}

export async function loadHeld(tx: Sql, candidates: readonly Candidate[]): Promise<HeldFacts> {
  const held: HeldFacts = {
    payloadByRecordId: new Map(),
    currentVersion: new Map(),
    recordIdByVersion: new Map(),
  };
  if (candidates.length === 0) return held;
  const ids = JSON.stringify(candidates.map((c) => c.record.recordId));
  const operators = JSON.stringify(
    candidates.map((c) => [c.record.issuer, c.record.operator.aeoId, c.record.version]),
  );
  // One after the other: a transaction is one connection, and pg deprecates queries issued while another runs.
  const byId = await tx.query<{ record_id: string; payload_sha256: string }>(
    `SELECT record_id::text, payload_sha256 FROM inbound_record
      WHERE record_id IN (SELECT k::uuid FROM jsonb_array_elements_text($1::jsonb) AS k)`,
    [ids],
  );
  const states = await tx.query<{ issuer: string; aeo_id: string; version: string }>(
    `SELECT issuer, aeo_id, version::text FROM operator_state
      WHERE (issuer, aeo_id) IN (SELECT x->>0, x->>1 FROM jsonb_array_elements($1::jsonb) AS x)`,
    [operators],
  );
  const versions = await tx.query<{ issuer: string; aeo_id: string; version: string; record_id: string }>(
    `SELECT issuer, aeo_id, version::text, record_id::text FROM inbound_record
      WHERE (issuer, aeo_id, version) IN
        (SELECT x->>0, x->>1, (x->>2)::bigint FROM jsonb_array_elements($1::jsonb) AS x)`,
    [operators],
  );
  for (const r of byId) held.payloadByRecordId.set(r.record_id, r.payload_sha256);
  for (const s of states) held.currentVersion.set(operatorKey(s.issuer, s.aeo_id), Number(s.version));
  for (const v of versions)
    held.recordIdByVersion.set(`${operatorKey(v.issuer, v.aeo_id)}\u0000${v.version}`, v.record_id);
  return held;
}

export interface ReceiptRow {
  receiptId: string;
  sender: string | null;
  receivedAt: Date;
  receiptJws: string;
}

export async function writeVerdicts(
  tx: Sql,
  receipt: ReceiptRow,
  verdicts: readonly Verdict[],
): Promise<void> {
  const kept = verdicts.filter((d): d is Accepted => d.outcome === 'candidate');
  await tx.query(
    `INSERT INTO inbound_receipt (receipt_id, sender, received_at, record_count, accepted_count, receipt_jws,
       outcome_counts)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      receipt.receiptId,
      receipt.sender,
      receipt.receivedAt.toISOString(),
      verdicts.length,
      kept.filter((d) => d.result === 'accepted').length,
      receipt.receiptJws,
      // What the receipt says, counted once here for the monitoring figures (src/monitoring/border-figures.ts).
      JSON.stringify(
        countOutcomes(verdicts.map((d) => (d.outcome === 'candidate' ? { outcome: d.result } : d))),
      ),
    ],
  );
  const conflicts = verdicts.filter((d) => d.outcome === 'rejected' && d.code === 'RECORD_ID_CONFLICT');
  if (conflicts.length > 0) {
    await tx.query(
      `INSERT INTO security_event (at, kind, partner, record_id, detail)
       SELECT $1, 'RECORD_ID_CONFLICT', $2, (x->>'recordId')::uuid, x->>'detail' FROM jsonb_array_elements($3::jsonb) AS x`,
      [receipt.receivedAt.toISOString(), receipt.sender, JSON.stringify(conflicts)],
    );
  }
  if (kept.length === 0) return;
  await tx.query(
    `INSERT INTO inbound_record (record_id, issuer, aeo_id, version, jws, jws_digest, payload_sha256,
       signer_fingerprint, outcome, issued_at, received_at, receipt_id)
     SELECT r.record_id, r.issuer, r.aeo_id, r.version, r.jws, r.jws_digest, r.payload_sha256,
       r.signer_fingerprint, r.outcome, r.issued_at, $2, $3
     FROM json_to_recordset($1::json) AS r(record_id uuid, issuer text, aeo_id text, version bigint, jws text,
       jws_digest text, payload_sha256 text, signer_fingerprint text, outcome text, issued_at timestamptz)`,
    [
      JSON.stringify(
        kept.map((d) => ({
          record_id: d.record.recordId,
          issuer: d.record.issuer,
          aeo_id: d.record.operator.aeoId,
          version: d.record.version,
          jws: d.jws,
          jws_digest: d.digest,
          payload_sha256: d.payloadSha256,
          signer_fingerprint: d.signerFingerprint,
          outcome: d.result,
          issued_at: d.record.issuedAt,
        })),
      ),
      receipt.receivedAt.toISOString(),
      receipt.receiptId,
    ],
  );
  await writeCurrentState(tx, latestPerOperator(kept), receipt.receivedAt);
}

function latestPerOperator(kept: readonly Accepted[]): Accepted[] {
  const latest = new Map<string, Accepted>();
  for (const d of kept) {
    if (d.result !== 'accepted') continue;
    const key = operatorKey(d.record.issuer, d.record.operator.aeoId);
    const seen = latest.get(key);
    if (seen === undefined || seen.record.version < d.record.version) latest.set(key, d);
  }
  return [...latest.values()];
}

/**
 * The documents are sent as `json`, not `jsonb`: each is read once, and PostgreSQL checks `json` without building
 * the binary form, which a batch of 500 records would otherwise pay for per statement (about a megabyte each).
 * The identifier statements get documents of their own, so the payloads are not parsed again for them.
 */
async function writeCurrentState(tx: Sql, accepted: readonly Accepted[], at: Date): Promise<void> {
  if (accepted.length === 0) return;
  const rows = JSON.stringify(
    accepted.map(({ record: r }) => ({
      issuer: r.issuer,
      aeo_id: r.operator.aeoId,
      version: r.version,
      record_id: r.recordId,
      status: r.status,
      status_since: r.statusSince,
      programme: r.programme,
      roles: r.operator.roles,
      name: r.operator.name,
      enterprise_size: r.operator.enterpriseSize ?? null,
      payload: r,
    })),
  );
  await tx.query(
    `INSERT INTO operator_state (issuer, aeo_id, version, record_id, status, status_since, programme, roles, name,
       enterprise_size, payload, updated_at)
     SELECT s.issuer, s.aeo_id, s.version, s.record_id, s.status, s.status_since, s.programme,
       ARRAY(SELECT json_array_elements_text(s.roles)), s.name, s.enterprise_size, s.payload, $2
     FROM json_to_recordset($1::json) AS s(issuer text, aeo_id text, version bigint, record_id uuid, status text,
       status_since date, programme text, roles json, name text, enterprise_size text, payload jsonb)
     ON CONFLICT (issuer, aeo_id) DO UPDATE SET version = EXCLUDED.version, record_id = EXCLUDED.record_id,
       status = EXCLUDED.status, status_since = EXCLUDED.status_since, programme = EXCLUDED.programme,
       roles = EXCLUDED.roles, name = EXCLUDED.name, enterprise_size = EXCLUDED.enterprise_size,
       payload = EXCLUDED.payload, updated_at = EXCLUDED.updated_at, redacted_at = NULL
     WHERE operator_state.version < EXCLUDED.version`,
    [rows, at.toISOString()],
  );
  await tx.query(
    `DELETE FROM operator_identifier WHERE (issuer, aeo_id) IN
       (SELECT x->>0, x->>1 FROM json_array_elements($1::json) AS x)`,
    [JSON.stringify(accepted.map(({ record: r }) => [r.issuer, r.operator.aeoId]))],
  );
  await tx.query(
    `INSERT INTO operator_identifier (scheme, value, issuer, aeo_id)
     SELECT DISTINCT x->>0, x->>1, x->>2, x->>3 FROM json_array_elements($1::json) AS x`,
    [
      JSON.stringify(
        accepted.flatMap(({ record: r }) =>
          r.operator.identifiers.map((i) => [i.scheme, i.value, r.issuer, r.operator.aeoId]),
        ),
      ),
    ],
  );
}
