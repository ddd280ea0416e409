/**
 * The report's inbound side beyond the summary figures: the partner's operators held, the status changes
 * received in the period and how fresh what we hold is (docs/monitoring.md).
 */
import { payloadSql } from '../lookup/payload-sql.ts';
import type { Sql } from '../store/types.ts';
import { versionsInEffect } from './operators-at.ts';
import type { Counts, MonitoringReport } from './report-types.ts';

type Inbound = MonitoringReport['inbound'];

const PAYLOAD = payloadSql('r');

/** The partner's operators with a version in effect at `at`, by that version's status. */
export async function heldOperators(sql: Sql, partner: string, at: Date): Promise<Inbound['operators']> {
  const byStatus: Counts = { certified: 0, suspended: 0, revoked: 0, withdrawn: 0 };
  let held = 0;
  for (const v of await versionsInEffect(sql, partner, at)) {
    byStatus[v.status] = (byStatus[v.status] ?? 0) + v.count;
    held += v.count;
  }
  return { held, byStatus };
}

/**
 * Versions accepted in [from, until) whose status differs from the operator's version before (or that are
 * its first), by the new status. A version whose text retention removed is read as operator_state holds it.
 * Only small rows are ordered by operator and version: a current version's status is read from operator_state,
 * and only an older one's payload is fetched and decoded, so a period of a million records stays one scan.
 */
export async function statusChanges(sql: Sql, partner: string, from: string, until: string): Promise<Counts> {
  const rows = await sql.query<{ status: string; n: string }>(
    `WITH v AS (
       SELECT k.aeo_id, k.version, k.received_at,
              CASE WHEN s.record_id IS NOT NULL THEN s.status
                   ELSE (SELECT ${PAYLOAD}->>'status' FROM inbound_record r WHERE r.record_id = k.record_id) END
                AS status
         FROM inbound_record k
         LEFT JOIN operator_state s ON s.record_id = k.record_id
        WHERE k.issuer = $1 AND k.outcome = 'accepted' AND k.received_at < $3
          AND k.aeo_id IN (SELECT aeo_id FROM inbound_record
                            WHERE issuer = $1 AND outcome = 'accepted' AND received_at >= $2 AND received_at < $3)
     ), w AS (
       SELECT received_at, status, lag(status) OVER (PARTITION BY aeo_id ORDER BY version) AS before FROM v
     )
     SELECT status, count(*)::text AS n FROM w
      WHERE received_at >= $2 AND status IS NOT NULL AND (before IS NULL OR before <> status)
      GROUP BY status ORDER BY status`,
    [partner, from, until],
  );
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

const iso = (value: unknown) =>
  value === null || value === undefined ? null : new Date(value as string).toISOString();

export async function freshness(sql: Sql, partner: string): Promise<Inbound['freshness']> {
  const [receipt] = await sql.query<{ at: unknown }>(
    `SELECT max(received_at) AS at FROM inbound_receipt WHERE sender = $1`,
    [partner],
  );
  const [feed] = await sql.query<{ at: unknown }>(
    `SELECT pulled_at AS at FROM partner_feed WHERE partner = $1`,
    [partner],
  );
  const [reconciled] = await sql.query<{ at: unknown; in_sync: boolean }>(
    `SELECT at, in_sync FROM reconciliation WHERE partner = $1 ORDER BY at DESC, id DESC LIMIT 1`,
    [partner],
  );
  const at = iso(reconciled?.at);
  return {
    lastReceiptAt: iso(receipt?.at),
    lastPulledAt: iso(feed?.at),
    lastReconciliation: reconciled === undefined || at === null ? null : { at, inSync: reconciled.in_sync },
  };
}
