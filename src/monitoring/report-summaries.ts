/**
 * The signed summaries a report shows: the partner's latest about our operators, and ours about its operators,
 * each for exactly the report's period, with the figures as signed.
 */
import type { Period, SummaryFigures } from '../protocol/monitoring-summary.ts';
import type { Sql } from '../store/types.ts';
import type { HeldSummary } from './report-types.ts';

interface Row {
  summary_id: string;
  reporter: string;
  subject: string;
  revision: string;
  issued_at: unknown;
  at: unknown;
  digest: string;
  figures: SummaryFigures | string;
}

function heldOf(r: Row | undefined): HeldSummary | null {
  if (r === undefined) return null;
  return {
    summaryId: r.summary_id,
    reporter: r.reporter,
    subject: r.subject,
    revision: Number(r.revision),
    issuedAt: new Date(r.issued_at as string).toISOString(),
    at: new Date(r.at as string).toISOString(),
    digest: r.digest,
    figures: typeof r.figures === 'string' ? (JSON.parse(r.figures) as SummaryFigures) : r.figures,
  };
}

const COLUMNS = 'summary_id::text, reporter, subject, revision::text, issued_at, digest, figures';

/** The partner's latest revision about `home`'s operators for the period, as received and accepted. */
export async function partnerSummary(sql: Sql, partner: string, home: string, mraId: string, period: Period) {
  const [row] = await sql.query<Row>(
    `SELECT ${COLUMNS}, received_at AS at FROM monitoring_summary_in
      WHERE reporter = $1 AND subject = $2 AND mra_id = $3 AND period_from = $4::date AND period_to = $5::date
        AND outcome = 'accepted'
      ORDER BY revision DESC LIMIT 1`,
    [partner, home, mraId, period.from, period.to],
  );
  return heldOf(row);
}

/** Our latest revision about the partner's operators for the period. `at`: when it was signed. */
export async function summaryIssued(sql: Sql, partner: string, mraId: string, period: Period) {
  const [row] = await sql.query<Row>(
    `SELECT ${COLUMNS}, issued_at AS at FROM monitoring_summary_out
      WHERE subject = $1 AND mra_id = $2 AND period_from = $3::date AND period_to = $4::date
      ORDER BY revision DESC LIMIT 1`,
    [partner, mraId, period.from, period.to],
  );
  return heldOf(row);
}
