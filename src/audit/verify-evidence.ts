/**
 * Verification, second part: every evidence row still matches the entry that anchors it, every evidence row
 * has one (a row inserted behind the gateway's back has none), and every entry still has its evidence. Each
 * table is streamed in pages by its key. The entries are authentic as far as the chain is intact; each break
 * carries the seq of the entry concerned, so that the first one in the chain is named (breaks.ts).
 */
import { recordDigest } from '../crypto/digest.ts';
import type { Sql } from '../store/types.ts';
import type { Breaks } from './breaks.ts';
import { SUMMARY_RECEIPTS_RECEIVED, SUMMARY_RECEIPTS_SENT, UNIDENTIFIED_SENDER } from './chain.ts';
import { type AuditBreak, DEFAULT_PAGE } from './verify-chain.ts';

export interface EvidenceCounts {
  inboundReceipts: number;
  inboundRecords: number;
  homeRecords: number;
  outboundReceipts: number;
  summaries: number;
  summaryReceipts: number;
  operators: number;
  mraTerms: number;
  reconciliations: number;
  redacted: number;
}

export interface Anchored {
  key: string;
  jws: string;
  actor: string | null;
  seq: string | null;
  digest: string | null;
  a_actor: string | null;
  /** Stored before the chain existed, and anchored by the table's baseline entry (baseline.ts). */
  in_baseline: boolean;
}

/** An evidence table whose rows are each anchored by one entry whose subject is the row's key. */
export interface AnchoredTable {
  table: string;
  kind: string;
  key: string;
  jws: string;
  /** The column the entry's actor must equal; null where the actor is whoever asked (an API client). */
  actor: string | null;
  /** The `detail.table` of its entries, where two tables share a kind (chain.ts); null: entries without. */
  marker: string | null;
}

type Name = 'inbound' | 'outbound' | 'summaryIn' | 'summaryOut' | 'summaryReceipt';

export const ANCHORED: Readonly<Record<Name, AnchoredTable>> = {
  inbound: {
    table: 'inbound_receipt',
    kind: 'receipt-sent',
    key: 'receipt_id',
    jws: 'receipt_jws',
    actor: 'sender',
    marker: null,
  },
  summaryReceipt: {
    table: 'monitoring_summary_receipt',
    kind: 'receipt-sent',
    key: 'receipt_id',
    jws: 'receipt_jws',
    actor: 'sender',
    marker: SUMMARY_RECEIPTS_SENT,
  },
  outbound: {
    table: 'outbound_receipt',
    kind: 'receipt-received',
    key: 'receipt_id',
    jws: 'receipt_jws',
    actor: 'partner',
    marker: null,
  },
  summaryIn: {
    table: 'monitoring_summary_in',
    kind: 'summary-received',
    key: 'summary_id',
    jws: 'jws',
    actor: 'reporter',
    marker: null,
  },
  summaryOut: {
    table: 'monitoring_summary_out',
    kind: 'summary-issued',
    key: 'summary_id',
    jws: 'jws',
    actor: null,
    marker: null,
  },
};

/** The SQL condition that an entry `a` carries the table's marker. */
export function markerIs(marker: string | null): string {
  return marker === null ? `(a.detail->>'table') IS NULL` : `(a.detail->>'table') = '${marker}'`;
}

/** Rows of the table, each with the entry whose subject is its key (none: seq null), in key order. */
export async function* anchoredRows(sql: Sql, t: AnchoredTable, page: number): AsyncGenerator<Anchored> {
  const { table, kind } = t;
  let after = '';
  for (;;) {
    const rows = await sql.query<Anchored>(
      `SELECT t.key, t.jws, t.actor, a.seq::text AS seq, a.digest, a.actor AS a_actor,
              EXISTS (SELECT 1 FROM audit_baseline b WHERE b.tbl = $4 AND b.key = t.key) AS in_baseline
         FROM (SELECT ${t.key}::text AS key, ${t.jws} AS jws, ${t.actor ?? 'NULL::text'} AS actor
                 FROM ${table} WHERE ${t.key}::text > $1 ORDER BY ${t.key}::text LIMIT $2) t
         LEFT JOIN audit_log a ON a.kind = $3 AND a.subject = t.key AND ${markerIs(t.marker)}
        ORDER BY t.key, a.seq`,
      [after, page, kind, table],
    );
    for (const r of rows) yield r;
    if (rows.length === 0) return;
    after = rows[rows.length - 1]?.key ?? '';
    if (new Set(rows.map((r) => r.key)).size < page) return;
  }
}

/** The break of a row against its entry, or undefined when the entry anchors it (or its baseline does). */
export function anchorBreak(t: AnchoredTable, r: Anchored): AuditBreak | undefined {
  const { table, kind } = t;
  const at = { seq: r.seq === null ? null : Number(r.seq), kind, subject: r.key, table, row: r.key };
  if (r.seq === null)
    return r.in_baseline
      ? undefined
      : { ...at, problem: `no ${kind} entry covers this row: inserted behind the gateway` };
  if (r.jws === null) return { ...at, problem: `${t.jws} is missing` };
  if (recordDigest(r.jws) !== r.digest) return { ...at, problem: `${t.jws} differs from the digest chained` };
  const expected = t.actor === null ? null : (r.actor ?? UNIDENTIFIED_SENDER);
  if (expected !== null && r.a_actor !== expected)
    return { ...at, problem: `the entry's actor ${r.a_actor} differs from the row's ${expected}` };
  return undefined;
}

/** The seq of a table's baseline entry: breaks in rows from before the chain are placed there. */
export async function baselineSeq(sql: Sql, table: string): Promise<number | null> {
  const [row] = await sql.query<{ seq: string }>(
    `SELECT seq::text FROM audit_log WHERE kind = 'baseline' AND subject = $1 ORDER BY audit_log.seq LIMIT 1`,
    [table],
  );
  return row === undefined ? null : Number(row.seq);
}

/** outbound_receipt and the summaries both ways: each row anchored by its entry. */
export async function verifyAnchored(
  sql: Sql,
  t: AnchoredTable,
  counts: EvidenceCounts,
  breaks: Breaks,
  page = DEFAULT_PAGE,
): Promise<void> {
  if (!(await tableExists(sql, t.table))) return;
  for await (const r of anchoredRows(sql, t, page)) {
    if (t.table === 'outbound_receipt') counts.outboundReceipts += 1;
    else counts.summaries += 1;
    breaks.add(anchorBreak(t, r));
  }
}

export async function tableExists(sql: Sql, table: string): Promise<boolean> {
  const [row] = await sql.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [table]);
  return row?.found === true;
}

/** The entries of a kind (and marker) whose evidence the condition `gone` (on entry `a`) finds missing. */
export async function orphanEntries(
  sql: Sql,
  breaks: Breaks,
  where: { kind: string; marker: string | null; table: string; gone: string },
): Promise<void> {
  const [orphan] = await sql.query<{ seq: string; subject: string; n: string }>(
    `SELECT a.seq::text, a.subject, count(*) OVER ()::text AS n FROM audit_log a
      WHERE a.kind = $1 AND ${markerIs(where.marker)} AND ${where.gone}
      ORDER BY a.seq LIMIT 1`,
    [where.kind],
  );
  if (orphan === undefined) return;
  breaks.addCounted(
    {
      seq: Number(orphan.seq),
      kind: where.kind,
      subject: orphan.subject,
      table: where.table,
      row: orphan.subject,
      problem: `the ${where.table} row this entry anchors is gone`,
    },
    Number(orphan.n),
  );
}

/** Every entry that anchors evidence still has its row: a deleted evidence row is found here. */
export async function verifyEntriesHaveEvidence(sql: Sql, breaks: Breaks): Promise<void> {
  for (const t of Object.values(ANCHORED)) {
    if (!(await tableExists(sql, t.table))) continue;
    await orphanEntries(sql, breaks, {
      kind: t.kind,
      marker: t.marker,
      table: t.table,
      gone: `NOT EXISTS (SELECT 1 FROM ${t.table} r WHERE r.${t.key}::text = a.subject)`,
    });
  }
  if (!(await tableExists(sql, SUMMARY_RECEIPTS_RECEIVED))) return;
  // A partner's receipt for our summaries is kept on each summary it acknowledged, as many as it counted.
  await orphanEntries(sql, breaks, {
    kind: 'receipt-received',
    marker: SUMMARY_RECEIPTS_RECEIVED,
    table: SUMMARY_RECEIPTS_RECEIVED,
    gone: `(SELECT count(*) FROM ${SUMMARY_RECEIPTS_RECEIVED} r WHERE r.receipt_id::text = a.subject)
             <> coalesce((a.detail->>'count')::int, -1)`,
  });
}
