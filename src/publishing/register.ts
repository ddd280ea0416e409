/**
 * The national register entries (home_operator) as the publisher reads and writes them: every entry a set of
 * decisions touches, in one statement each way.
 */
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

/** The entries of these operators, locked until the transaction ends; absent ones are not in the register. */
export async function loadHomeOperators(
  tx: Sql,
  aeoIds: readonly string[],
): Promise<Map<string, HomeOperator>> {
  const found = new Map<string, HomeOperator>();
  if (aeoIds.length === 0) return found;
  // Locked in key order, so two transactions over overlapping sets cannot wait on each other.
  const rows = await tx.query<Row>(
    `SELECT aeo_id, consent, version::text, status, programme, operator, status_since::text, certified_on::text,
            last_validated_on::text, suspended_until::text
       FROM home_operator WHERE aeo_id = ANY($1::text[]) ORDER BY aeo_id FOR UPDATE`,
    [aeoIds],
  );
  for (const row of rows) {
    found.set(row.aeo_id, {
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
    });
  }
  return found;
}

/** Writes the entries (each operator once: an upsert cannot touch one row twice in a statement). */
export async function saveHomeOperators(tx: Sql, entries: readonly HomeOperator[], now: Date): Promise<void> {
  if (entries.length === 0) return;
  await tx.query(
    `INSERT INTO home_operator (aeo_id, consent, version, status, programme, operator, status_since, certified_on,
       last_validated_on, suspended_until, updated_at)
     SELECT e.aeo_id, e.consent, e.version, e.status, e.programme, e.operator::jsonb, e.status_since,
            e.certified_on, e.last_validated_on, e.suspended_until, $11
       FROM unnest($1::text[], $2::boolean[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::date[],
                   $8::date[], $9::date[], $10::date[])
         AS e (aeo_id, consent, version, status, programme, operator, status_since, certified_on,
               last_validated_on, suspended_until)
     ON CONFLICT (aeo_id) DO UPDATE SET consent = EXCLUDED.consent, version = EXCLUDED.version,
       status = EXCLUDED.status, programme = EXCLUDED.programme, operator = EXCLUDED.operator,
       status_since = EXCLUDED.status_since, certified_on = EXCLUDED.certified_on,
       last_validated_on = EXCLUDED.last_validated_on, suspended_until = EXCLUDED.suspended_until,
       updated_at = EXCLUDED.updated_at`,
    [
      entries.map((e) => e.aeoId),
      entries.map((e) => e.consent),
      entries.map((e) => e.version),
      entries.map((e) => e.status),
      entries.map((e) => e.programme),
      entries.map((e) => JSON.stringify(e.operator)),
      entries.map((e) => e.statusSince),
      entries.map((e) => e.certifiedOn),
      entries.map((e) => e.lastValidatedOn ?? null),
      entries.map((e) => e.suspendedUntil ?? null),
      now.toISOString(),
    ],
  );
}
