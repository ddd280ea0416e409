/**
 * Fills the read model from PostgreSQL: everything at start, in keyset pages so a million operators never sit
 * in one result, and the versions received since a time after a gap in the change events. Only accepted
 * evidence rows are history (a superseded version never became state, docs/threats.md 42). At start, each
 * operator's current version comes from the columns of `operator_state` (written from the same record when it
 * was accepted); only older versions have their fields read from the stored JWS payload, which PostgreSQL
 * decodes itself so that only a few columns cross the wire. Decoding every payload took minutes at a million.
 */
import type { AeoStatus, Programme, Role } from '../protocol/record.ts';
import type { Sql } from '../store/types.ts';
import type { ReadModel, VersionInput } from './read-model.ts';

export const PAGE_SIZE = 10_000;

interface VersionRow {
  issuer: string;
  aeo_id: string;
  version: string;
  record_id: string;
  jws_digest: string;
  received_ms: number | string;
  status: AeoStatus;
  status_since: string;
  programme: Programme;
  roles: Role[] | string;
}

// The payload segment of the compact JWS, base64url → JSON, decoded in the database; for a record whose JWS
// retention removed, the payload it kept without the operator's personal data (src/retention/retention.ts).
const PAYLOAD = `coalesce(convert_from(decode(rpad(translate(split_part(r.jws, '.', 2), '-_', '+/'),
  ((length(split_part(r.jws, '.', 2)) + 3) / 4) * 4, '='), 'base64'), 'UTF8')::jsonb, r.kept_payload)`;

const VERSION_COLUMNS = `r.issuer, r.aeo_id, r.version::text AS version, r.record_id::text AS record_id, r.jws_digest,
  floor(extract(epoch FROM r.received_at) * 1000)::float8 AS received_ms,
  p.doc->>'status' AS status, p.doc->>'statusSince' AS status_since, p.doc->>'programme' AS programme,
  (p.doc->'operator'->'roles')::text AS roles`;

function inputOf(row: VersionRow): VersionInput {
  return {
    issuer: row.issuer,
    aeoId: row.aeo_id,
    version: Number(row.version),
    recordId: row.record_id,
    digest: row.jws_digest,
    receivedAt: Number(row.received_ms),
    status: row.status,
    statusSince: row.status_since,
    programme: row.programme,
    roles: typeof row.roles === 'string' ? (JSON.parse(row.roles) as Role[]) : row.roles,
  };
}

const CURRENT_COLUMNS = `s.issuer, s.aeo_id, s.version::text AS version, s.record_id::text AS record_id, r.jws_digest,
  floor(extract(epoch FROM r.received_at) * 1000)::float8 AS received_ms, s.status,
  to_char(s.status_since, 'YYYY-MM-DD') AS status_since, s.programme, to_jsonb(s.roles)::text AS roles`;

/** Loads every accepted version, every identifier and each partner's latest contact. */
export async function loadAll(
  sql: Sql,
  model: ReadModel,
  pageSize = PAGE_SIZE,
  /** Told after each page of current versions, with the operators loaded so far. */
  onPage?: (operators: number) => void,
  /** Checked after each page: an aborted load stops there (the gateway is closing). */
  signal?: AbortSignal,
): Promise<void> {
  // Current versions, from operator_state's columns.
  let at: [string, string] = ['', ''];
  for (;;) {
    const rows = await sql.query<VersionRow>(
      `SELECT ${CURRENT_COLUMNS} FROM operator_state s JOIN inbound_record r ON r.record_id = s.record_id
        WHERE (s.issuer, s.aeo_id) > ($1, $2) ORDER BY s.issuer, s.aeo_id LIMIT $3`,
      [...at, pageSize],
    );
    for (const row of rows) model.apply(inputOf(row));
    signal?.throwIfAborted();
    onPage?.(model.operatorCount);
    const last = rows.at(-1);
    if (last === undefined || rows.length < pageSize) break;
    at = [last.issuer, last.aeo_id];
  }
  // Older accepted versions, decoded from their payloads.
  let after: [string, string, string] = ['', '', '-1'];
  for (;;) {
    const rows = await sql.query<VersionRow>(
      `SELECT ${VERSION_COLUMNS}
         FROM inbound_record r JOIN operator_state s ON s.issuer = r.issuer AND s.aeo_id = r.aeo_id
        CROSS JOIN LATERAL (SELECT ${PAYLOAD} AS doc) p
        WHERE r.outcome = 'accepted' AND r.version < s.version
          AND (r.issuer, r.aeo_id, r.version) > ($1, $2, $3::bigint)
        ORDER BY r.issuer, r.aeo_id, r.version LIMIT $4`,
      [...after, pageSize],
    );
    for (const row of rows) model.apply(inputOf(row));
    signal?.throwIfAborted();
    const last = rows.at(-1);
    if (last === undefined || rows.length < pageSize) break;
    after = [last.issuer, last.aeo_id, last.version];
  }
  let afterId: [string, string, string, string] = ['', '', '', ''];
  let batch: IdentifierRow[] = [];
  for (;;) {
    const rows = await sql.query<IdentifierRow>(
      `SELECT issuer, aeo_id, scheme, value FROM operator_identifier
        WHERE (issuer, aeo_id, scheme, value) > ($1, $2, $3, $4)
        ORDER BY issuer, aeo_id, scheme, value LIMIT $5`,
      [...afterId, pageSize],
    );
    // An operator's identifiers may straddle two pages: set them only once all of its rows are in.
    batch.push(...rows);
    const last = rows.at(-1);
    const complete = last === undefined || rows.length < pageSize;
    const keep = complete ? [] : batch.filter((r) => r.issuer === last.issuer && r.aeo_id === last.aeo_id);
    applyIdentifiers(model, batch.slice(0, batch.length - keep.length));
    batch = keep;
    signal?.throwIfAborted();
    if (complete) break;
    afterId = [last.issuer, last.aeo_id, last.scheme ?? '', last.value ?? ''];
  }
  await loadPartnerContact(sql, model);
}

/**
 * Loads the versions received at or after `since` (epoch ms) that the model does not hold, and the identifiers of
 * their operators. A reload after a gap finds most of them held (their events were applied): it reads only the
 * keys of the versions received since, and the fields (decoded from the payload) of those it misses.
 */
export async function loadSince(sql: Sql, model: ReadModel, since: number): Promise<number> {
  const keys = await sql.query<{ issuer: string; aeo_id: string; version: string }>(
    `SELECT issuer, aeo_id, version::text AS version FROM inbound_record
      WHERE outcome = 'accepted' AND received_at >= $1`,
    [new Date(since).toISOString()],
  );
  const missing = keys.filter((k) => !model.holds(k.issuer, k.aeo_id, Number(k.version)));
  if (missing.length > 0) {
    const rows = await sql.query<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM inbound_record r CROSS JOIN LATERAL (SELECT ${PAYLOAD} AS doc) p
        WHERE (r.issuer, r.aeo_id, r.version) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]))
        ORDER BY r.received_at`,
      [missing.map((k) => k.issuer), missing.map((k) => k.aeo_id), missing.map((k) => k.version)],
    );
    for (const row of rows) model.apply(inputOf(row));
    const operators = [...new Set(rows.map((r) => JSON.stringify([r.issuer, r.aeo_id])))];
    const ids = await sql.query<IdentifierRow>(
      `SELECT issuer, aeo_id, scheme, value FROM operator_identifier WHERE (issuer, aeo_id) IN
         (SELECT x->>0, x->>1 FROM jsonb_array_elements($1::jsonb) AS x)`,
      [`[${operators.join(',')}]`],
    );
    applyIdentifiers(model, ids);
  }
  await loadPartnerContact(sql, model);
  return keys.length;
}

export interface IdentifierRow {
  issuer: string;
  aeo_id: string;
  /** Null for an operator listed without any identifier (an outer join): it is left with none. */
  scheme: string | null;
  value: string | null;
}

/** Sets the identifiers of each operator of `rows` to those rows: all of an operator's rows must be there. */
export function applyIdentifiers(model: ReadModel, rows: readonly IdentifierRow[]): void {
  const byOperator = new Map<string, IdentifierRow[]>();
  for (const r of rows) {
    const key = `${r.issuer}\u0000${r.aeo_id}`;
    const list = byOperator.get(key);
    if (list === undefined) byOperator.set(key, [r]);
    else list.push(r);
  }
  for (const list of byOperator.values()) {
    const ids: { scheme: string; value: string }[] = [];
    for (const r of list)
      if (r.scheme !== null && r.value !== null) ids.push({ scheme: r.scheme, value: r.value });
    model.setIdentifiers(list[0]!.issuer, list[0]!.aeo_id, ids);
  }
}

async function loadPartnerContact(sql: Sql, model: ReadModel): Promise<void> {
  // Each sender's latest receipt from inbound_receipt_sender_time, one probe per sender (a skip scan), not an
  // aggregate over every receipt ever received.
  const rows = await sql.query<{ sender: string; last_ms: number | string }>(
    `WITH RECURSIVE senders (sender) AS (
       SELECT min(sender) FROM inbound_receipt
       UNION ALL
       SELECT (SELECT min(i.sender) FROM inbound_receipt i WHERE i.sender > s.sender)
         FROM senders s WHERE s.sender IS NOT NULL)
     SELECT s.sender, floor(extract(epoch FROM
              (SELECT max(i.received_at) FROM inbound_receipt i WHERE i.sender = s.sender)) * 1000)::float8 AS last_ms
       FROM senders s WHERE s.sender IS NOT NULL`,
  );
  for (const r of rows) model.sawPartner(r.sender, Number(r.last_ms));
}
