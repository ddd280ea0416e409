/**
 * Evidence stored before the chain existed (a gateway upgraded to a version with the audit trail): migration
 * 012 listed its keys in `audit_baseline`; at the first start after it, one 'baseline' entry per table
 * anchors exactly those rows, with a digest over the lines `key TAB digest LF` in key order (the digest of
 * the row's JWS, or for home_record `recordId TAB digest`, kept through retention). Verification accepts these
 * rows without an entry of their own, and recomputes the digest.
 */

import { createHash } from 'node:crypto';
import { recordDigest } from '../crypto/digest.ts';
import type { Sql, Store } from '../store/types.ts';
import type { Breaks } from './breaks.ts';
import { AUDIT_LOCK_KEY, type AuditEntry, appendAuditMany, GATEWAY_ACTOR } from './chain.ts';
import { DEFAULT_PAGE } from './verify-chain.ts';

/** How each table's row is read into its baseline line. */
const LINES: Readonly<Record<string, string>> = {
  inbound_receipt: `SELECT b.key, r.receipt_jws AS jws, NULL::text AS digest, NULL::text AS kept
    FROM audit_baseline b LEFT JOIN inbound_receipt r ON r.receipt_id::text = b.key`,
  outbound_receipt: `SELECT b.key, r.receipt_jws AS jws, NULL::text AS digest, NULL::text AS kept
    FROM audit_baseline b LEFT JOIN outbound_receipt r ON r.receipt_id::text = b.key`,
  // The line holds the digest kept with the record; the record's JWS, unless retention removed it, must match it.
  home_record: `SELECT b.key, h.jws, h.record_id::text || chr(9) || h.digest AS digest, h.digest AS kept
    FROM audit_baseline b LEFT JOIN home_record h ON h.seq::text = b.key`,
  reconciliation: `SELECT b.key, NULL::text AS jws, NULL::text AS kept,
      concat_ws(chr(9), r.partner, r.in_sync::text, coalesce(r.partner_digest, '-'), r.local_digest,
        coalesce(r.partner_count::text, '-'), r.local_count::text) AS digest
    FROM audit_baseline b LEFT JOIN reconciliation r ON r.id::text = b.key`,
};

export const BASELINE_TABLES = Object.keys(LINES);

/** The digest and count of a table's baseline rows as they are now; a row gone hashes as `-`. */
export async function baselineDigest(
  sql: Sql,
  table: string,
  page = DEFAULT_PAGE,
): Promise<{ digest: string; count: number; jwsDiffers?: string }> {
  const hash = createHash('sha256');
  let count = 0;
  let after = '';
  let jwsDiffers: string | undefined;
  for (;;) {
    const rows = await sql.query<{
      key: string;
      jws: string | null;
      digest: string | null;
      kept: string | null;
    }>(`${LINES[table]} WHERE b.tbl = $1 AND b.key > $2 ORDER BY b.key LIMIT $3`, [table, after, page]);
    for (const r of rows) {
      const line = r.digest ?? (r.jws === null ? '-' : recordDigest(r.jws));
      if (r.kept !== null && r.jws !== null && jwsDiffers === undefined && recordDigest(r.jws) !== r.kept)
        jwsDiffers = r.key;
      hash.update(`${r.key}\t${line}\n`, 'utf8');
      count += 1;
    }
    const last = rows.at(-1);
    if (last === undefined || rows.length < page) break;
    after = last.key;
  }
  return { digest: hash.digest('base64url'), count, ...(jwsDiffers === undefined ? {} : { jwsDiffers }) };
}

/** At start: anchors the baseline of every table that has one and no entry yet. Idempotent across replicas. */
export async function anchorBaseline(store: Store): Promise<number> {
  const [pending] = await store.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM (SELECT DISTINCT tbl FROM audit_baseline) t
      WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.kind = 'baseline' AND a.subject = t.tbl)`,
  );
  if (Number(pending?.n ?? 0) === 0) return 0;
  return store.transaction(async (tx) => {
    // Under the chain's lock, so a replica starting at the same moment finds these entries and adds none.
    await tx.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK_KEY]);
    const entries: AuditEntry[] = [];
    for (const table of BASELINE_TABLES) {
      const [done] = await tx.query(
        `SELECT 1 FROM audit_log WHERE kind = 'baseline' AND subject = $1
          UNION ALL SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM audit_baseline WHERE tbl = $1)`,
        [table],
      );
      if (done !== undefined) continue;
      const { digest, count } = await baselineDigest(tx, table);
      entries.push({
        kind: 'baseline',
        actor: GATEWAY_ACTOR,
        subject: table,
        digest,
        detail: { table, count },
      });
    }
    await appendAuditMany(tx, entries);
    return entries.length;
  });
}

/** Verification: each table's baseline still hashes to its entry, and no baseline is left unanchored. */
export async function verifyBaseline(sql: Sql, breaks: Breaks, page = DEFAULT_PAGE): Promise<void> {
  for (const table of BASELINE_TABLES) {
    const [held] = await sql.query<{ n: string }>(
      'SELECT count(*)::text AS n FROM audit_baseline WHERE tbl = $1',
      [table],
    );
    const entries = await sql.query<{ seq: string; digest: string }>(
      `SELECT seq::text, digest FROM audit_log WHERE kind = 'baseline' AND subject = $1 ORDER BY audit_log.seq`,
      [table],
    );
    const entry = entries[0];
    const at = { kind: 'baseline', subject: table, table };
    if (entry === undefined) {
      if (Number(held?.n ?? 0) > 0)
        breaks.add({
          ...at,
          seq: null,
          problem: 'rows from before the chain are not anchored yet: start the gateway once',
        });
      continue;
    }
    const now = await baselineDigest(sql, table, page);
    if (now.jwsDiffers !== undefined)
      breaks.add({
        ...at,
        seq: Number(entry.seq),
        row: now.jwsDiffers,
        problem: 'the JWS differs from its digest',
      });
    else if (entries.length > 1 || now.digest !== entry.digest)
      breaks.add({
        ...at,
        seq: Number(entry.seq),
        problem: 'the rows from before the chain differ from the baseline digest',
      });
  }
}
