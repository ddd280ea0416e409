/**
 * A partner's operators by the version of each in effect at an instant, by the as-of rule of
 * src/mra/recognition.ts (effectiveFrom: the later of statusSince and the receipt), counted in the database by
 * the facts recognition and the figures depend on (status, programme, roles, enterprise size): a few groups
 * cross the wire, not one row per operator, so the figures of a million operators are a single scan. The rule
 * itself stays in recognition.ts: the caller judges each group once. An operator whose current version is in
 * effect then is read from operator_state's columns; only the others have an older accepted version's payload
 * decoded, in the database, as the lookup read model does at start (src/lookup/load.ts). An older version whose
 * text retention removed (src/retention) is read from the payload it kept; one with neither is left out.
 */
import { effectiveFromSql, payloadSql } from '../lookup/payload-sql.ts';
import type { AeoStatus, Programme, Role } from '../protocol/record.ts';
import type { Sql } from '../store/types.ts';

export type EnterpriseSize = 'micro' | 'small' | 'medium' | 'large';

/** The operators whose version in effect has these facts, and how many they are. */
export interface VersionsAt {
  status: AeoStatus;
  programme: Programme;
  roles: Role[];
  enterpriseSize: EnterpriseSize | null;
  count: number;
}

interface Row {
  status: AeoStatus;
  programme: Programme;
  roles: string;
  enterprise_size: EnterpriseSize | null;
  n: string;
}

const PAYLOAD = payloadSql('r');
const effective = effectiveFromSql;

export async function versionsInEffect(sql: Sql, issuer: string, at: Date): Promise<VersionsAt[]> {
  // One pass over the issuer's operators. Only an operator whose current version is not yet in effect at `at`
  // looks further: its highest older accepted version that is (one index probe, one payload decoded).
  const current = effective('s.status_since', 'cr.received_at');
  const rows = await sql.query<Row>(
    `SELECT CASE WHEN o.older IS NULL THEN s.status ELSE o.status END AS status,
            CASE WHEN o.older IS NULL THEN s.programme ELSE o.programme END AS programme,
            (CASE WHEN o.older IS NULL THEN to_jsonb(s.roles) ELSE o.roles END)::text AS roles,
            CASE WHEN o.older IS NULL THEN s.enterprise_size ELSE o.enterprise_size END AS enterprise_size,
            count(*)::text AS n
       FROM operator_state s
       JOIN inbound_record cr ON cr.record_id = s.record_id AND cr.outcome = 'accepted'
       LEFT JOIN LATERAL (
         SELECT true AS older, p.doc->>'status' AS status, p.doc->>'programme' AS programme,
                p.doc->'operator'->'roles' AS roles, p.doc->'operator'->>'enterpriseSize' AS enterprise_size
           FROM inbound_record r CROSS JOIN LATERAL (SELECT ${PAYLOAD} AS doc) p
          WHERE ${current} > $2::timestamptz
            AND r.issuer = s.issuer AND r.aeo_id = s.aeo_id AND r.version < s.version
            AND r.outcome = 'accepted' AND r.received_at <= $2::timestamptz
            AND (r.jws IS NOT NULL OR r.kept_payload IS NOT NULL)
            AND ${effective("p.doc->>'statusSince'", 'r.received_at')} <= $2::timestamptz
          ORDER BY r.version DESC LIMIT 1
       ) o ON true
      WHERE s.issuer = $1 AND (${current} <= $2::timestamptz OR o.older IS NOT NULL)
      GROUP BY 1, 2, 3, 4`,
    [issuer, at.toISOString()],
  );
  return rows.map((r) => ({
    status: r.status,
    programme: r.programme,
    roles: JSON.parse(r.roles) as Role[],
    enterpriseSize: r.enterprise_size,
    count: Number(r.n),
  }));
}
