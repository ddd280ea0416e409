/**
 * The MRA terms in force at an instant, from the history the gateway keeps in `mra_terms` (mra-history.ts):
 * the figures of a past period judge recognition and list benefits under the terms that applied then, so an
 * amendment does not rewrite them and a summary re-issued later signs the same figures. When the history has
 * no terms that early (a period before the gateway first ran), the configured terms are used.
 */
import type { Mra, Partner } from '../mra/types.ts';
import { PROGRAMMES, type Programme, ROLES, type Role } from '../protocol/record.ts';
import type { Sql } from '../store/types.ts';
import { dayAfter, dayStart } from './period.ts';
import type { MraTermsVersion } from './report-types.ts';

const STATUSES: readonly Mra['status'][] = ['in-force', 'suspended', 'terminated'];

const programmesOf = (values: readonly string[]): Programme[] => PROGRAMMES.filter((p) => values.includes(p));
const rolesOf = (values: readonly string[]): Role[] => ROLES.filter((r) => values.includes(r));

/** The terms as an Mra the recognition rule judges with; the inverse of termsOf (mra-history.ts). */
export function mraOfTerms(terms: MraTermsVersion['terms']): Mra {
  const status = STATUSES.find((s) => s === terms.status);
  return {
    id: terms.mraId,
    // A status this gateway does not know was never written by it: judged as not in force.
    status: status ?? 'suspended',
    inForceFrom: dayStart(terms.inForceFrom),
    // Held as the last day in force; the Mra holds the exclusive end.
    inForceUntil: terms.inForceUntil === null ? undefined : dayAfter(terms.inForceUntil),
    programmes: new Set(programmesOf(terms.programmes)),
    roles: new Set(rolesOf(terms.roles)),
    benefits: terms.benefits.map((b) => ({
      id: b.id,
      description: b.description,
      roles: b.roles === null ? undefined : rolesOf(b.roles),
    })),
  };
}

/** The partner's MRA as in force at `at`: the latest terms recorded since no later than `at`. */
export async function mraAt(sql: Sql, partner: Partner, at: Date): Promise<Mra> {
  const [row] = await sql.query<{ terms: unknown }>(
    `SELECT terms FROM mra_terms WHERE partner = $1 AND since <= $2::timestamptz ORDER BY since DESC LIMIT 1`,
    [partner.adminId, at.toISOString()],
  );
  if (row === undefined) return partner.mra;
  const terms = (
    typeof row.terms === 'string' ? JSON.parse(row.terms) : row.terms
  ) as MraTermsVersion['terms'];
  return mraOfTerms(terms);
}
