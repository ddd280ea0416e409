/**
 * What publishing reads and writes besides the register entries (register.ts): decisions applied, records
 * signed, their outbox rows. Each function is one statement for a whole set of decisions, arrays in, rows out.
 */
import { createHash } from 'node:crypto';
import type { Sql } from '../store/types.ts';
import type { PublishedRecord, StoredDecision } from './plan.ts';
import type { SignedJws } from './sign-record.ts';

/** Decisions of these ids applied by earlier transactions. */
export async function loadStoredDecisions(
  tx: Sql,
  decisionIds: readonly string[],
): Promise<Map<string, StoredDecision>> {
  const rows = await tx.query<{ decision_id: string; aeo_id: string; record_id: string | null }>(
    'SELECT decision_id::text, aeo_id, record_id::text FROM home_decision WHERE decision_id = ANY($1::uuid[])',
    [decisionIds],
  );
  return new Map(rows.map((r) => [r.decision_id, { aeoId: r.aeo_id, recordId: r.record_id }]));
}

/** The partners that were sent any record of each of these operators. */
export async function loadEarlierPartners(
  tx: Sql,
  aeoIds: readonly string[],
): Promise<Map<string, Set<string>>> {
  const held = new Map<string, Set<string>>();
  if (aeoIds.length === 0) return held;
  const rows = await tx.query<{ aeo_id: string; partner: string }>(
    `SELECT DISTINCT h.aeo_id, o.partner FROM home_record h JOIN outbox o ON o.record_seq = h.seq
      WHERE h.aeo_id = ANY($1::text[])`,
    [aeoIds],
  );
  for (const r of rows) {
    const set = held.get(r.aeo_id) ?? new Set<string>();
    set.add(r.partner);
    held.set(r.aeo_id, set);
  }
  return held;
}

/** The records these ids name, with the partners they have outbox rows for (sorted), for replays. */
export async function loadPublished(
  tx: Sql,
  recordIds: readonly string[],
): Promise<Map<string, PublishedRecord>> {
  const found = new Map<string, PublishedRecord>();
  if (recordIds.length === 0) return found;
  const rows = await tx.query<{ record_id: string; version: string; status: string; partner: string | null }>(
    `SELECT h.record_id::text, h.version::text, h.status, o.partner
       FROM home_record h LEFT JOIN outbox o ON o.record_seq = h.seq WHERE h.record_id = ANY($1::uuid[])`,
    [recordIds],
  );
  for (const r of rows) {
    let record = found.get(r.record_id);
    if (record === undefined) {
      record = { recordId: r.record_id, version: Number(r.version), status: r.status, partners: [] };
      found.set(r.record_id, record);
    }
    if (r.partner !== null) record.partners.push(r.partner);
  }
  for (const record of found.values()) record.partners.sort();
  return found;
}

export interface SignedRow {
  recordId: string;
  aeoId: string;
  version: number;
  status: string;
  programme: string;
  roles: readonly string[];
  jws: SignedJws;
  partners: readonly string[];
}

/** A record as stored: its seq and the digest stored beside its JWS. */
export interface StoredRecord {
  seq: number;
  recordId: string;
  digest: string;
}

/**
 * Stores the records and one outbox row per record and partner, in one statement. `seq` is taken in the order
 * given (the caller's order: an operator's records in version order); the publishing lock makes it commit order
 * too. Answers each record's seq and digest, in the order given.
 */
export async function insertRecords(tx: Sql, rows: readonly SignedRow[], now: Date): Promise<StoredRecord[]> {
  if (rows.length === 0) return [];
  // The columns as one JSON document (roles and partners as JSON arrays, read straight into text[]); the JWS,
  // by far the most bytes, as their shared protected header once and the rest of each space-joined beside it.
  const { head, rests } = splitHead(rows.map((r) => r.jws));
  const digests = jwsDigests(head, rests);
  const inserted = await tx.query<{ seq: string; record_id: string }>(
    `WITH input AS (
       SELECT * FROM ROWS FROM (
              json_to_recordset($1::json) AS (record_id uuid, aeo_id text, version bigint, status text,
                programme text, roles text[], partners text[]),
              unnest(string_to_array($2, ' ')),
              unnest(string_to_array($3, ' '))) WITH ORDINALITY
         AS r (record_id, aeo_id, version, status, programme, roles, partners, rest, digest, n)),
     stored AS (
       INSERT INTO home_record (record_id, aeo_id, version, status, programme, roles, jws, digest, created_at)
       SELECT record_id, aeo_id, version, status, programme, roles, $4 || rest, digest, $5 FROM input ORDER BY n
       RETURNING seq, record_id),
     queued AS (
       INSERT INTO outbox (partner, record_seq, created_at)
       SELECT p.partner, s.seq, $5 FROM stored s JOIN input i USING (record_id)
         CROSS JOIN LATERAL unnest(i.partners) WITH ORDINALITY AS p (partner, k)
        ORDER BY s.seq, p.k)
     SELECT seq::text, record_id::text FROM stored`,
    [
      JSON.stringify(
        rows.map((r) => ({
          record_id: r.recordId,
          aeo_id: r.aeoId,
          version: r.version,
          status: r.status,
          programme: r.programme,
          roles: r.roles,
          partners: r.partners,
        })),
      ),
      spaceJoined(rests),
      spaceJoined(digests),
      head,
      now.toISOString(),
    ],
  );
  const seqOf = new Map(inserted.map((r) => [r.record_id, Number(r.seq)]));
  const stored = rows.map((r, i) => ({
    seq: seqOf.get(r.recordId) ?? Number.NaN,
    recordId: r.recordId,
    digest: digests[i]!,
  }));
  // Feeds and deliveries rely on seq order being version order per operator: never commit otherwise.
  for (let i = 1; i < stored.length; i += 1) {
    if (!(stored[i]!.seq > stored[i - 1]!.seq))
      throw new Error('home_record.seq was not taken in the order of the set');
  }
  return stored;
}

/** The protected header the set's JWS share (a set is signed with one key), or none when they differ. */
function splitHead(signed: readonly SignedJws[]): { head: string; rests: string[] } {
  const head = signed[0]?.head ?? '';
  if (signed.every((s) => s.head === head)) return { head, rests: signed.map((s) => s.rest) };
  return { head: '', rests: signed.map((s) => s.head + s.rest) };
}

/**
 * The digest of each JWS `head + rest`, as crypto/digest.ts's recordDigest defines it (base64url SHA-256 of the
 * compact JWS): the shared head is hashed once and the hash state copied for each record.
 */
export function jwsDigests(head: string, rests: readonly string[]): string[] {
  const headHash = createHash('sha256').update(head, 'utf8');
  return rests.map((rest) => headHash.copy().update(rest, 'utf8').digest('base64url'));
}

/**
 * Compact JWS and digests are base64url and dots only: joined by spaces, they travel as one text parameter
 * that PostgreSQL splits, instead of an array literal it must parse character by character and the driver
 * must escape (half of PostgreSQL's cost of a record, measured on 500-record chunks).
 */
function spaceJoined(values: readonly string[]): string {
  if (values.some((v) => v === '' || v.includes(' ')))
    throw new Error('a JWS or digest holds a space or is empty');
  return values.join(' ');
}

export async function insertDecisions(
  tx: Sql,
  rows: readonly { decisionId: string; aeoId: string; decision: string; recordId: string | null }[],
  now: Date,
): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO home_decision (decision_id, aeo_id, decision, record_id, applied_at)
     SELECT d.decision_id, d.aeo_id, d.decision, d.record_id, $5
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[]) AS d (decision_id, aeo_id, decision, record_id)`,
    [
      rows.map((d) => d.decisionId),
      rows.map((d) => d.aeoId),
      rows.map((d) => d.decision),
      rows.map((d) => d.recordId),
      now.toISOString(),
    ],
  );
}
