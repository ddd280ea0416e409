/**
 * Verification of reconciliation reports: each row as its 'reconciliation' entry states the outcome, each
 * entry's row still there, rows from before the chain accepted as the baseline lists them.
 */
import type { Sql } from '../store/types.ts';
import type { Breaks } from './breaks.ts';
import { canonicalJson } from './encoding.ts';
import { DEFAULT_PAGE } from './verify-chain.ts';
import { type EvidenceCounts, orphanEntries } from './verify-evidence.ts';

interface ReconciliationRow {
  id: string;
  partner: string;
  in_sync: boolean;
  partner_digest: string | null;
  local_digest: string;
  partner_count: number | null;
  local_count: number;
  seq: string | null;
  detail: Record<string, unknown> | null;
  in_baseline: boolean;
}

/** reconciliation: each report as its 'reconciliation' entry states it, and each entry's report still there. */
export async function verifyReconciliations(
  sql: Sql,
  counts: EvidenceCounts,
  breaks: Breaks,
  page = DEFAULT_PAGE,
): Promise<void> {
  let after = 0;
  for (;;) {
    const rows = await sql.query<ReconciliationRow>(
      `SELECT r.id::text, r.partner, r.in_sync, r.partner_digest, r.local_digest, r.partner_count, r.local_count,
              a.seq::text AS seq, a.detail,
              EXISTS (SELECT 1 FROM audit_baseline b WHERE b.tbl = 'reconciliation' AND b.key = r.id::text)
                AS in_baseline
         FROM reconciliation r LEFT JOIN audit_log a ON a.kind = 'reconciliation' AND a.subject = r.id::text
        WHERE r.id > $1 ORDER BY r.id LIMIT $2`,
      [after, page],
    );
    for (const r of rows) {
      counts.reconciliations += 1;
      const at = { seq: r.seq === null ? null : Number(r.seq), kind: 'reconciliation', subject: r.id };
      const where = { ...at, table: 'reconciliation', row: r.id };
      if (r.seq === null) {
        if (!r.in_baseline)
          breaks.add({
            ...where,
            problem: 'no reconciliation entry covers this row: inserted behind the gateway',
          });
        continue;
      }
      const stated = {
        partner: r.partner,
        inSync: r.in_sync,
        partnerDigest: r.partner_digest,
        localDigest: r.local_digest,
        partnerCount: r.partner_count,
        localCount: r.local_count,
      };
      if (canonicalJson(stated) !== canonicalJson(r.detail))
        breaks.add({ ...where, problem: 'the report differs from the outcome chained' });
    }
    const last = rows.at(-1);
    if (last === undefined || rows.length < page) break;
    after = Number(last.id);
  }
  await orphanEntries(sql, breaks, {
    kind: 'reconciliation',
    marker: null,
    table: 'reconciliation',
    gone: 'NOT EXISTS (SELECT 1 FROM reconciliation r WHERE r.id::text = a.subject)',
  });
}
