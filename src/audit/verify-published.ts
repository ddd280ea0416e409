/**
 * Verification of home_record: each 'records-published' range recomputed, each row against its JWS, no row
 * outside a range (rows from before the chain excepted: their baseline anchors them).
 */
import type { Sql } from '../store/types.ts';
import type { Breaks } from './breaks.ts';
import { publishedRangeDigest } from './chain.ts';
import { recordProblem } from './record-check.ts';
import { auditRows, DEFAULT_PAGE, instantText } from './verify-chain.ts';
import type { EvidenceCounts } from './verify-evidence.ts';

interface HomeRow {
  seq: string;
  record_id: string;
  aeo_id: string;
  version: string;
  status: string;
  jws: string | null;
  digest: string;
  redacted_at: string | null;
}

export async function verifyPublished(
  sql: Sql,
  counts: EvidenceCounts,
  breaks: Breaks,
  page = DEFAULT_PAGE,
): Promise<void> {
  let covered = 0;
  /** Rows in (from, below) that no range and no baseline covers: inserted behind the gateway. */
  const outside = async (from: number, below: number | null): Promise<void> => {
    const [row] = await sql.query<{ seq: string; n: string }>(
      `SELECT seq::text, count(*) OVER ()::text AS n FROM home_record
        WHERE seq > $1 AND ($2::bigint IS NULL OR seq < $2)
          AND NOT EXISTS (SELECT 1 FROM audit_baseline b WHERE b.tbl = 'home_record' AND b.key = home_record.seq::text)
        ORDER BY home_record.seq LIMIT 1`,
      [from, below],
    );
    if (row === undefined) return;
    breaks.addCounted(
      {
        seq: null,
        kind: 'records-published',
        subject: null,
        table: 'home_record',
        row: row.seq,
        problem: 'no records-published entry covers this row: inserted behind the gateway',
      },
      Number(row.n),
    );
  };
  for await (const e of auditRows(sql, page, 'records-published')) {
    const first = Number(e.detail?.firstSeq);
    const last = Number(e.detail?.lastSeq);
    const at = { seq: e.seq, kind: e.kind, subject: e.subject, table: 'home_record' };
    await outside(covered, first);
    const rows = await sql.query<HomeRow>(
      `SELECT seq::text, record_id::text, aeo_id, version::text, status, jws, digest,
              ${instantText('redacted_at')} AS redacted_at
         FROM home_record WHERE seq BETWEEN $1 AND $2 ORDER BY home_record.seq`,
      [first, last],
    );
    if (
      rows.length !== Number(e.detail?.count) ||
      publishedRangeDigest(rows.map((r) => ({ seq: r.seq, recordId: r.record_id, digest: r.digest }))) !==
        e.digest
    )
      breaks.add({
        ...at,
        row: `${first}-${last}`,
        problem: 'the records in this range differ from the digest chained (a row altered, added or deleted)',
      });
    for (const r of rows) {
      counts.homeRecords += 1;
      const problem = recordProblem({ ...r, status: r.status });
      if (problem === 'redacted') counts.redacted += 1;
      else if (problem !== undefined) breaks.add({ ...at, row: r.seq, problem });
    }
    covered = Math.max(covered, Number.isFinite(last) ? last : covered);
  }
  await outside(covered, null);
}
