/**
 * Loads what is held for a batch and writes its verdicts: evidence, current state, identifiers, receipt.
 *
 * One statement per table per batch. Column values go as PostgreSQL arrays expanded by `unnest`, and the two
 * large values of each record, its compact JWS and its payload, as parameters of their own gathered by
 * ARRAY[...]: a text parameter is taken as it is, while a JSON document or an array literal of a megabyte is
 * scanned character by character by the server (json_to_recordset cost about half again as much server time per
 * record). The payload is the text the partner signed, decoded once (judge.ts), never serialised again.
 */
import { countOutcomes } from '../protocol/receipt-counts.ts';
import type { Sql } from '../store/types.ts';
import type { Candidate } from './judge.ts';
import { type HeldFacts, operatorKey, type Verdict } from './verdict.ts';

type Accepted = Candidate & { result: 'accepted' | 'superseded' };

/**
 * Serialises batches that touch the same operators or recordIds (docs/threats.md 64: two identical batches at the
 * same moment store one copy). The server hashes each key to the lock's 64 bits and takes the locks in sorted
 * order, so concurrent batches cannot deadlock.
 */
export async function lockBatch(tx: Sql, candidates: readonly Candidate[]): Promise<void> {
  if (candidates.length === 0) return;
  const keys: string[] = [];
  for (const c of candidates)
    keys.push(`op:${c.record.issuer}/${c.record.operator.aeoId}`, `rec:${c.record.recordId}`);
  await tx.query(
    `SELECT count(pg_advisory_xact_lock(h)) FROM
       (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS k ORDER BY h) AS sorted`,
    [keys],
  );
}

/** The three facts of verdict.ts in one statement: held payloads by recordId, current versions, held versions. */
export async function loadHeld(tx: Sql, candidates: readonly Candidate[]): Promise<HeldFacts> {
  const held: HeldFacts = {
    payloadByRecordId: new Map(),
    currentVersion: new Map(),
    recordIdByVersion: new Map(),
  };
  if (candidates.length === 0) return held;
  const rows = await tx.query<{ kind: number; a: string; b: string; c: string | null; d: string | null }>(
    `SELECT 1 AS kind, record_id::text AS a, payload_sha256 AS b, NULL AS c, NULL AS d FROM inbound_record
      WHERE record_id = ANY ($1::uuid[])
     UNION ALL
     SELECT 2, issuer, aeo_id, version::text, NULL FROM operator_state
      WHERE (issuer, aeo_id) IN (SELECT * FROM unnest($2::text[], $3::text[]))
     UNION ALL
     SELECT 3, issuer, aeo_id, version::text, record_id::text FROM inbound_record
      WHERE (issuer, aeo_id, version) IN (SELECT * FROM unnest($2::text[], $3::text[], $4::bigint[]))`,
    [
      candidates.map((c) => c.record.recordId),
      candidates.map((c) => c.record.issuer),
      candidates.map((c) => c.record.operator.aeoId),
      candidates.map((c) => c.record.version),
    ],
  );
  for (const r of rows) {
    if (r.kind === 1) held.payloadByRecordId.set(r.a, r.b);
    else if (r.kind === 2) held.currentVersion.set(operatorKey(r.a, r.b), Number(r.c));
    else held.recordIdByVersion.set(`${operatorKey(r.a, r.b)}\u0000${r.c}`, r.d ?? '');
  }
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
  // Every statement is made first, then all go out at once and are awaited together (the store sends them in
  // one round trip): PostgreSQL runs them in the order sent, and none needs another's rows.
  const statements: Statement[] = [
    {
      text: `INSERT INTO inbound_receipt (receipt_id, sender, received_at, record_count, accepted_count, receipt_jws,
               outcome_counts)
             VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      params: [
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
    },
  ];
  const conflicts = verdicts.filter((d) => d.outcome === 'rejected' && d.code === 'RECORD_ID_CONFLICT');
  if (conflicts.length > 0) {
    statements.push({
      text: `INSERT INTO security_event (at, kind, partner, record_id, detail)
             SELECT $1, 'RECORD_ID_CONFLICT', $2, x.record_id, x.detail
               FROM unnest($3::uuid[], $4::text[]) AS x(record_id, detail)`,
      params: [
        receipt.receivedAt.toISOString(),
        receipt.sender,
        conflicts.map((d) => (d.outcome === 'rejected' ? (d.recordId ?? null) : null)),
        conflicts.map((d) => (d.outcome === 'rejected' ? d.detail : '')),
      ],
    });
  }
  if (kept.length > 0) {
    statements.push(
      insertRecords(receipt, kept),
      ...currentState(latestPerOperator(kept), receipt.receivedAt),
    );
  }
  await Promise.all(statements.map(({ text, params }) => tx.query(text, params)));
}

/** One statement of a batch's writes, made before any of them is sent. */
interface Statement {
  text: string;
  params: unknown[];
}

function insertRecords(receipt: ReceiptRow, kept: readonly Accepted[]): Statement {
  const columns = 11;
  return {
    text: `INSERT INTO inbound_record (record_id, issuer, aeo_id, version, jws, jws_digest, payload_sha256,
       signer_fingerprint, outcome, issued_at, received_at, receipt_id)
     SELECT r.record_id, r.issuer, r.aeo_id, r.version, r.jws, r.jws_digest, r.payload_sha256,
       r.signer_fingerprint, r.outcome, r.issued_at, $1, $2
     FROM unnest($3::uuid[], $4::text[], $5::text[], $6::bigint[], ${textArray(columns + 1, kept.length)},
       $7::text[], $8::text[], $9::text[], $10::text[], $11::timestamptz[])
       AS r(record_id, issuer, aeo_id, version, jws, jws_digest, payload_sha256, signer_fingerprint, outcome,
         issued_at)`,
    params: [
      receipt.receivedAt.toISOString(),
      receipt.receiptId,
      kept.map((d) => d.record.recordId),
      kept.map((d) => d.record.issuer),
      kept.map((d) => d.record.operator.aeoId),
      kept.map((d) => d.record.version),
      kept.map((d) => d.digest),
      kept.map((d) => d.payloadSha256),
      kept.map((d) => d.signerFingerprint),
      kept.map((d) => d.result),
      kept.map((d) => d.record.issuedAt),
      ...kept.map((d) => d.jws),
    ],
  };
}

/**
 * A PostgreSQL array literal of texts, each element quoted and escaped: one array per row inside a column of
 * `unnest`, read by the server's array input rather than by parsing JSON in a subquery for each row.
 */
function arrayLiteral(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join(',')}}`;
}

/** `ARRAY[$first::text, …]` of `count` parameters: large values, each passed as it is (see the top). */
function textArray(first: number, count: number): string {
  return `ARRAY[${Array.from({ length: count }, (_, i) => `$${first + i}::text`).join(',')}]`;
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
 * The operators' current state from their latest accepted records, and the identifiers each one states: the
 * state and the removal of the identifiers it replaces in one statement (two tables, so their order within it
 * does not matter), then the identifiers, which must follow the removal: they are sent after it.
 */
function currentState(accepted: readonly Accepted[], at: Date): Statement[] {
  if (accepted.length === 0) return [];
  const columns = 11;
  const state: Statement = {
    text: `WITH replaced AS (
       DELETE FROM operator_identifier WHERE (issuer, aeo_id) IN (SELECT * FROM unnest($2::text[], $3::text[])))
     INSERT INTO operator_state (issuer, aeo_id, version, record_id, status, status_since, programme, roles, name,
       enterprise_size, payload, updated_at)
     SELECT s.issuer, s.aeo_id, s.version, s.record_id, s.status, s.status_since, s.programme, s.roles::text[],
       s.name, s.enterprise_size, s.payload::jsonb, $1
     FROM unnest($2::text[], $3::text[], $4::bigint[], $5::uuid[], $6::text[], $7::date[], $8::text[], $9::text[],
       $10::text[], $11::text[], ${textArray(columns + 1, accepted.length)})
       AS s(issuer, aeo_id, version, record_id, status, status_since, programme, roles, name, enterprise_size,
         payload)
     ON CONFLICT (issuer, aeo_id) DO UPDATE SET version = EXCLUDED.version, record_id = EXCLUDED.record_id,
       status = EXCLUDED.status, status_since = EXCLUDED.status_since, programme = EXCLUDED.programme,
       roles = EXCLUDED.roles, name = EXCLUDED.name, enterprise_size = EXCLUDED.enterprise_size,
       payload = EXCLUDED.payload, updated_at = EXCLUDED.updated_at, redacted_at = NULL
     WHERE operator_state.version < EXCLUDED.version`,
    params: [
      at.toISOString(),
      accepted.map(({ record: r }) => r.issuer),
      accepted.map(({ record: r }) => r.operator.aeoId),
      accepted.map(({ record: r }) => r.version),
      accepted.map(({ record: r }) => r.recordId),
      accepted.map(({ record: r }) => r.status),
      accepted.map(({ record: r }) => r.statusSince),
      accepted.map(({ record: r }) => r.programme),
      accepted.map(({ record: r }) => arrayLiteral(r.operator.roles)),
      accepted.map(({ record: r }) => r.operator.name),
      accepted.map(({ record: r }) => r.operator.enterpriseSize ?? null),
      ...accepted.map((d) => d.payloadJson),
    ],
  };
  const identifiers = accepted.flatMap(({ record: r }) =>
    r.operator.identifiers.map((i) => [i.scheme, i.value, r.issuer, r.operator.aeoId] as const),
  );
  return [
    state,
    {
      text: `INSERT INTO operator_identifier (scheme, value, issuer, aeo_id)
             SELECT DISTINCT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])`,
      params: [0, 1, 2, 3].map((k) => identifiers.map((row) => row[k])),
    },
  ];
}
