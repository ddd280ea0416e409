/**
 * The report's inbound side beyond the summary figures: the partner's operators held, the status changes
 * received in the period and how fresh what we hold is (docs/monitoring.md).
 */
import type { Sql } from '../store/types.ts';
import { versionsInEffect } from './operators-at.ts';
import type { Counts, MonitoringReport } from './report-types.ts';

type Inbound = MonitoringReport['inbound'];

const PAYLOAD = `convert_from(decode(rpad(translate(split_part(r.jws, '.', 2), '-_', '+/'),
  ((length(split_part(r.jws, '.', 2)) + 3) / 4) * 4, '='), 'base64'), 'UTF8')::jsonb`;

/** The partner's operators with a version in effect at `at`, by that version's status. */
export async function heldOperators(sql: Sql, partner: string, at: Date): Promise<Inbound['operators']> {
  const byStatus: Counts = { certified: 0, suspended: 0, revoked: 0, withdrawn: 0 };
  const versions = await versionsInEffect(sql, partner, at);
  for (const v of versions) byStatus[v.status] = (byStatus[v.status] ?? 0) + 1;
  return { held: versions.length, byStatus };
}

/**
 * Versions accepted in [from, until) whose status differs from the operator's version before (or that are
 * its first), by the new status. A version whose text retention removed is read as operator_state holds it.
 */
export async function statusChanges(sql: Sql, partner: string, from: string, until: string): Promise<Counts> {
  const rows = await sql.query<{ status: string; n: string }>(
    `WITH v AS (
       SELECT r.received_at, coalesce(p.doc->>'status', s.status) AS status
            , lag(coalesce(p.doc->>'status', s.status)) OVER (PARTITION BY r.aeo_id ORDER BY r.version) AS before
         FROM inbound_record r
         LEFT JOIN operator_state s ON s.record_id = r.record_id
        CROSS JOIN LATERAL (SELECT CASE WHEN s.record_id IS NOT NULL THEN NULL WHEN r.jws IS NULL THEN r.kept_payload
                                        ELSE ${PAYLOAD} END AS doc) p
        WHERE r.issuer = $1 AND r.outcome = 'accepted' AND r.received_at < $3
          AND r.aeo_id IN (SELECT aeo_id FROM inbound_record
                            WHERE issuer = $1 AND outcome = 'accepted' AND received_at >= $2 AND received_at < $3))
     SELECT status, count(*)::text AS n FROM v
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
