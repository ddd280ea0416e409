/**
 * The version of each of a partner's operators in effect at an instant, by the as-of rule of
 * src/mra/recognition.ts (effectiveFrom: the later of statusSince and the receipt). An operator whose current
 * version is in effect then is read from operator_state's columns; only the others have an older accepted
 * version's payload decoded, in the database, as the lookup read model does at start (src/lookup/load.ts).
 * An older version whose text retention removed (src/retention) is no longer known and is left out.
 */
import { effectiveFromSql, payloadSql } from '../lookup/payload-sql.ts';
import type { AeoStatus, Programme, Role } from '../protocol/record.ts';
import type { Sql } from '../store/types.ts';

export type EnterpriseSize = 'micro' | 'small' | 'medium' | 'large';

export interface VersionAt {
  aeoId: string;
  status: AeoStatus;
  programme: Programme;
  roles: Role[];
  enterpriseSize: EnterpriseSize | null;
}

interface Row {
  aeo_id: string;
  status: AeoStatus;
  programme: Programme;
  roles: Role[] | string;
  enterprise_size: EnterpriseSize | null;
}

// A version whose text retention removed is read from the payload it kept (src/retention/retention.ts).
const PAYLOAD = payloadSql('r');
const effective = effectiveFromSql;

export async function versionsInEffect(sql: Sql, issuer: string, at: Date): Promise<VersionAt[]> {
  const instant = at.toISOString();
  const current = await sql.query<Row>(
    `SELECT s.aeo_id, s.status, s.programme, to_jsonb(s.roles)::text AS roles, s.enterprise_size
       FROM operator_state s JOIN inbound_record r ON r.record_id = s.record_id
      WHERE s.issuer = $1 AND ${effective('s.status_since', 'r.received_at')} <= $2::timestamptz`,
    [issuer, instant],
  );
  const older = await sql.query<Row>(
    `SELECT DISTINCT ON (r.aeo_id) r.aeo_id, p.doc->>'status' AS status, p.doc->>'programme' AS programme,
            (p.doc->'operator'->'roles')::text AS roles, p.doc->'operator'->>'enterpriseSize' AS enterprise_size
       FROM operator_state s
       JOIN inbound_record cr ON cr.record_id = s.record_id
       JOIN inbound_record r ON r.issuer = s.issuer AND r.aeo_id = s.aeo_id AND r.version < s.version
        AND r.outcome = 'accepted' AND r.received_at <= $2::timestamptz
      CROSS JOIN LATERAL (SELECT ${PAYLOAD} AS doc) p
      WHERE s.issuer = $1 AND ${effective('s.status_since', 'cr.received_at')} > $2::timestamptz
        AND (r.jws IS NOT NULL OR r.kept_payload IS NOT NULL)
        AND ${effective("p.doc->>'statusSince'", 'r.received_at')} <= $2::timestamptz
      ORDER BY r.aeo_id, r.version DESC`,
    [issuer, instant],
  );
  return [...current, ...older].map((r) => ({
    aeoId: r.aeo_id,
    status: r.status,
    programme: r.programme,
    roles: typeof r.roles === 'string' ? (JSON.parse(r.roles) as Role[]) : r.roles,
    enterpriseSize: r.enterprise_size,
  }));
}
