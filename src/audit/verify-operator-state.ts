/**
 * Verification of the current state of partners' operators (operator_state), which lookups and reports read:
 * each row names a held record of the same operator and version, the latest one accepted, and states what
 * that record states (its JWS, or after retention the payload kept); every operator with an accepted record
 * has its row.
 */
import type { Sql } from '../store/types.ts';
import type { Breaks } from './breaks.ts';
import { type ColumnCheck, columnsProblem, payloadOf, sameJson } from './record-check.ts';
import { DEFAULT_PAGE, instantText } from './verify-chain.ts';
import { baselineSeq, type EvidenceCounts } from './verify-evidence.ts';

interface StateRow {
  issuer: string;
  aeo_id: string;
  version: string;
  record_id: string;
  status: string;
  status_since: string;
  programme: string;
  roles: string[];
  name: string | null;
  enterprise_size: string | null;
  payload: Record<string, unknown>;
  redacted_at: string | null;
  r_issuer: string | null;
  r_aeo_id: string | null;
  r_version: string | null;
  r_jws: string | null;
  r_kept: Record<string, unknown> | null;
  r_receipt: string | null;
  latest: string | null;
  seq: string | null;
}

/** The receipt-sent entry `a` of the receipt of inbound_record `r`. */
const RECEIPT_ENTRY = `a.kind = 'receipt-sent' AND a.subject = r.receipt_id::text AND (a.detail->>'table') IS NULL`;

/** The document without the operator's personal data, as retention keeps it. */
function withoutPersonal(doc: Record<string, unknown>): Record<string, unknown> {
  const operator = doc.operator;
  if (typeof operator !== 'object' || operator === null) return doc;
  const { name: _n, address: _a, identifiers: _i, ...kept } = operator as Record<string, unknown>;
  return { ...doc, operator: kept };
}

function stateChecks(s: StateRow): ColumnCheck[] {
  const signed = s.r_jws === null ? undefined : payloadOf(s.r_jws);
  const source = signed ?? s.r_kept ?? undefined;
  const checks: ColumnCheck[] = [
    ['issuer', s.r_issuer === s.issuer],
    ['aeo_id', s.r_aeo_id === s.aeo_id],
    ['version', s.r_version === s.version && s.latest === s.version],
  ];
  if (source === undefined) return checks;
  const operator = (source.operator ?? {}) as Record<string, unknown>;
  const redacted = s.redacted_at !== null;
  checks.push(
    ['status', source.status === s.status],
    ['status_since', source.statusSince === s.status_since],
    ['programme', source.programme === s.programme],
    ['roles', sameJson(operator.roles, s.roles)],
    ['enterprise_size', (operator.enterpriseSize ?? null) === s.enterprise_size],
    ['name', redacted ? s.name === null : signed === undefined || operator.name === s.name],
    [
      'payload',
      signed === undefined
        ? !redacted || sameJson(s.payload, s.r_kept)
        : sameJson(s.payload, redacted ? withoutPersonal(signed) : signed),
    ],
  );
  return checks;
}

export async function verifyOperatorState(
  sql: Sql,
  counts: EvidenceCounts,
  breaks: Breaks,
  page = DEFAULT_PAGE,
): Promise<void> {
  const base = await baselineSeq(sql, 'inbound_receipt');
  let after: [string, string] = ['', ''];
  for (;;) {
    const rows = await sql.query<StateRow>(
      `SELECT s.issuer, s.aeo_id, s.version::text, s.record_id::text, s.status, s.status_since::text,
              s.programme, s.roles, s.name, s.enterprise_size, s.payload,
              ${instantText('s.redacted_at')} AS redacted_at,
              r.issuer AS r_issuer, r.aeo_id AS r_aeo_id, r.version::text AS r_version, r.jws AS r_jws,
              r.kept_payload AS r_kept, r.receipt_id::text AS r_receipt,
              (SELECT max(m.version) FROM inbound_record m
                WHERE m.issuer = s.issuer AND m.aeo_id = s.aeo_id AND m.outcome = 'accepted')::text AS latest,
              (SELECT min(a.seq) FROM audit_log a WHERE ${RECEIPT_ENTRY})::text AS seq
         FROM operator_state s LEFT JOIN inbound_record r ON r.record_id = s.record_id
        WHERE (s.issuer, s.aeo_id) > ($1, $2) ORDER BY s.issuer, s.aeo_id LIMIT $3`,
      [after[0], after[1], page],
    );
    for (const s of rows) {
      counts.operators += 1;
      const problem = columnsProblem(stateChecks(s), 'the record it names');
      if (problem === undefined) continue;
      breaks.add({
        seq: s.seq === null ? base : Number(s.seq),
        kind: s.seq === null ? 'baseline' : 'receipt-sent',
        subject: s.seq === null ? 'inbound_receipt' : (s.r_receipt ?? s.record_id),
        table: 'operator_state',
        row: `${s.issuer}/${s.aeo_id}`,
        problem,
      });
    }
    const last = rows.at(-1);
    if (last === undefined || rows.length < page) break;
    after = [last.issuer, last.aeo_id];
  }
  const [missing] = await sql.query<{ issuer: string; aeo_id: string; seq: string | null; n: string }>(
    `SELECT r.issuer, r.aeo_id, min(a.seq)::text AS seq, count(*) OVER ()::text AS n
       FROM inbound_record r LEFT JOIN audit_log a ON ${RECEIPT_ENTRY}
      WHERE r.outcome = 'accepted'
        AND NOT EXISTS (SELECT 1 FROM operator_state s WHERE s.issuer = r.issuer AND s.aeo_id = r.aeo_id)
      GROUP BY r.issuer, r.aeo_id ORDER BY min(a.seq) NULLS LAST LIMIT 1`,
  );
  if (missing === undefined) return;
  breaks.addCounted(
    {
      seq: missing.seq === null ? base : Number(missing.seq),
      kind: missing.seq === null ? 'baseline' : 'receipt-sent',
      subject: missing.seq === null ? 'inbound_receipt' : null,
      table: 'operator_state',
      row: `${missing.issuer}/${missing.aeo_id}`,
      problem: 'the operator has an accepted record and no current state: deleted',
    },
    Number(missing.n),
  );
}
