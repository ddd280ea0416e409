/**
 * Verification, first part: the chain itself. Streams `audit_log` in pages of `seq` and recomputes every
 * hash; memory stays one page whatever the length of the chain.
 */
import type { Sql } from '../store/types.ts';
import { type AuditEntry, entryHash, GENESIS_HASH } from './encoding.ts';

/** The first broken link: the row, and what differs from what it should be. */
export interface AuditBreak {
  /** The audit entry concerned, when there is one. */
  seq: number | null;
  kind: string | null;
  subject: string | null;
  /** The evidence table whose row differs, or audit_log. */
  table: string;
  /** The evidence row's key, when the break is in an evidence row. */
  row?: string;
  problem: string;
}

export const DEFAULT_PAGE = 1_000;

/** A timestamptz column as encoding.ts spells instants, formatted by PostgreSQL so no precision is lost. */
export function instantText(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/** The columns of an audit_log row as `auditEntry` decodes them. */
export const AUDIT_COLUMNS = `seq::text, ${instantText('at')} AS at, kind, actor, subject, digest, detail, prev_hash, hash`;

/** A row of audit_log selected with AUDIT_COLUMNS. */
export interface AuditRow {
  seq: string;
  at: string;
  kind: string;
  actor: string;
  subject: string;
  digest: string;
  detail: Record<string, unknown> | null;
  prev_hash: string;
  hash: string;
}

export function auditEntry(r: AuditRow): AuditEntry {
  return {
    seq: Number(r.seq),
    at: r.at,
    kind: r.kind,
    actor: r.actor,
    subject: r.subject,
    digest: r.digest,
    detail: r.detail,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** The entries of audit_log matching `where` (a condition over its columns), in seq order. */
export async function auditEntries(sql: Sql, where: string, params: unknown[]): Promise<AuditEntry[]> {
  const rows = await sql.query<AuditRow>(
    `SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE ${where} ORDER BY audit_log.seq`,
    params,
  );
  return rows.map(auditEntry);
}

/** Yields the entries of audit_log in seq order, optionally of one kind, a page at a time. */
export async function* auditRows(sql: Sql, page = DEFAULT_PAGE, kind?: string): AsyncGenerator<AuditEntry> {
  let after = -1;
  for (;;) {
    const rows = await sql.query<AuditRow>(
      `SELECT ${AUDIT_COLUMNS} FROM audit_log
        WHERE seq > $1 AND ($3::text IS NULL OR kind = $3) ORDER BY audit_log.seq LIMIT $2`,
      [after, page, kind ?? null],
    );
    for (const r of rows) yield auditEntry(r);
    if (rows.length < page) return;
    after = Number(rows[rows.length - 1]?.seq);
  }
}

export interface ChainResult {
  entries: number;
  head: string;
  broken?: AuditBreak;
}

/** (a) Every row's hash recomputed, every prev_hash linked to the row before, seq contiguous from 1. */
export async function verifyChain(sql: Sql, page = DEFAULT_PAGE): Promise<ChainResult> {
  let expected = 1;
  let prevHash = GENESIS_HASH;
  for await (const r of auditRows(sql, page)) {
    const at = { seq: r.seq, kind: r.kind, subject: r.subject, table: 'audit_log' };
    if (r.seq !== expected) {
      const problem =
        r.seq > expected
          ? `seq ${expected}${r.seq - 1 > expected ? `..${r.seq - 1}` : ''} missing: entries deleted`
          : `seq ${r.seq} out of order`;
      return { entries: expected - 1, head: prevHash, broken: { ...at, seq: expected, problem } };
    }
    if (r.prevHash !== prevHash) {
      return {
        entries: expected - 1,
        head: prevHash,
        broken: { ...at, problem: `prev_hash differs from the hash of seq ${r.seq - 1}` },
      };
    }
    const hash = entryHash(r);
    if (hash !== r.hash) {
      return {
        entries: expected - 1,
        head: prevHash,
        broken: {
          ...at,
          problem: 'hash differs from the hash of its fields: a field or the hash was altered',
        },
      };
    }
    prevHash = r.hash;
    expected += 1;
  }
  return { entries: expected - 1, head: prevHash };
}
