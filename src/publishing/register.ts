/** The national register entries (home_operator) as the publisher reads and writes them. */
import type { Sql } from '../store/types.ts';
import type { HomeOperator } from './decision.ts';

interface Row {
  aeo_id: string;
  consent: boolean;
  version: string;
  status: HomeOperator['status'];
  programme: HomeOperator['programme'];
  operator: HomeOperator['operator'];
  status_since: string;
  certified_on: string;
  last_validated_on: string | null;
  suspended_until: string | null;
}

export async function loadHomeOperator(tx: Sql, aeoId: string): Promise<HomeOperator | undefined> {
  const [row] = await tx.query<Row>(
    `SELECT aeo_id, consent, version::text, status, programme, operator, status_since::text, certified_on::text,
            last_validated_on::text, suspended_until::text
       FROM home_operator WHERE aeo_id = $1 FOR UPDATE`,
    [aeoId],
  );
  if (row === undefined) return undefined;
  return {
    aeoId: row.aeo_id,
    consent: row.consent,
    version: Number(row.version),
    status: row.status,
    programme: row.programme,
    operator: row.operator,
    statusSince: row.status_since,
    certifiedOn: row.certified_on,
    lastValidatedOn: row.last_validated_on ?? undefined,
    suspendedUntil: row.suspended_until ?? undefined,
  };
}

export async function saveHomeOperator(tx: Sql, e: HomeOperator, now: Date): Promise<void> {
  await tx.query(
    `INSERT INTO home_operator (aeo_id, consent, version, status, programme, operator, status_since, certified_on,
       last_validated_on, suspended_until, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11)
     ON CONFLICT (aeo_id) DO UPDATE SET consent = EXCLUDED.consent, version = EXCLUDED.version,
       status = EXCLUDED.status, programme = EXCLUDED.programme, operator = EXCLUDED.operator,
       status_since = EXCLUDED.status_since, certified_on = EXCLUDED.certified_on,
       last_validated_on = EXCLUDED.last_validated_on, suspended_until = EXCLUDED.suspended_until,
       updated_at = EXCLUDED.updated_at`,
    [
      e.aeoId,
      e.consent,
      e.version,
      e.status,
      e.programme,
      JSON.stringify(e.operator),
      e.statusSince,
      e.certifiedOn,
      e.lastValidatedOn ?? null,
      e.suspendedUntil ?? null,
      now.toISOString(),
    ],
  );
}
