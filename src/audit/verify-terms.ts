/**
 * Verification of the history of MRA terms (mra_terms), which reports name as in force in their period: each
 * row as its 'mra-amended' entry states it (the terms' canonical digest, their SHA-256 as reports show it),
 * and each entry's row still there. The table came with the audit trail, so it has no rows from before it.
 */
import { recordDigest } from '../crypto/digest.ts';
import type { Sql } from '../store/types.ts';
import type { Breaks } from './breaks.ts';
import { canonicalJson } from './encoding.ts';
import { columnsProblem } from './record-check.ts';
import { DEFAULT_PAGE, instantText } from './verify-chain.ts';
import { type EvidenceCounts, orphanEntries, tableExists } from './verify-evidence.ts';

/** The subject of a row's entry, as chain.ts mraTermsSubject spells it. */
const SUBJECT = `m.partner || ' ' || ${instantText('m.since')}`;

interface TermsRow {
  partner: string;
  since: string;
  subject: string;
  terms: unknown;
  terms_sha256: string;
  seq: string | null;
  digest: string | null;
  detail: Record<string, unknown> | null;
}

export async function verifyMraTerms(
  sql: Sql,
  counts: EvidenceCounts,
  breaks: Breaks,
  page = DEFAULT_PAGE,
): Promise<void> {
  if (!(await tableExists(sql, 'mra_terms'))) return;
  let after: [string, string] = ['', '-infinity'];
  for (;;) {
    const rows = await sql.query<TermsRow>(
      `SELECT m.partner, ${instantText('m.since')} AS since, ${SUBJECT} AS subject, m.terms, m.terms_sha256,
              a.seq::text AS seq, a.digest, a.detail
         FROM (SELECT * FROM mra_terms WHERE (partner, since) > ($1, $2::timestamptz)
                ORDER BY partner, since LIMIT $3) m
         LEFT JOIN audit_log a ON a.kind = 'mra-amended' AND a.subject = ${SUBJECT}
        ORDER BY m.partner, m.since, a.seq`,
      [after[0], after[1], page],
    );
    for (const r of rows) {
      counts.mraTerms += 1;
      const at = {
        seq: r.seq === null ? null : Number(r.seq),
        kind: 'mra-amended',
        subject: r.subject,
        table: 'mra_terms',
        row: r.subject,
      };
      const problem =
        r.seq === null
          ? 'no mra-amended entry covers this row: inserted behind the gateway'
          : columnsProblem(
              [
                ['terms', recordDigest(canonicalJson(r.terms)) === r.digest],
                ['terms_sha256', r.detail?.termsSha256 === r.terms_sha256],
                ['partner', r.detail?.partner === r.partner],
              ],
              'what the entry states',
            );
      if (problem !== undefined) breaks.add({ ...at, problem });
    }
    const last = rows.at(-1);
    if (last === undefined || rows.length < page) break;
    after = [last.partner, last.since];
  }
  await orphanEntries(sql, breaks, {
    kind: 'mra-amended',
    marker: null,
    table: 'mra_terms',
    gone: `NOT EXISTS (SELECT 1 FROM mra_terms m WHERE ${SUBJECT} = a.subject)`,
  });
}
