/**
 * Read models to compare: generated operators and versions (fast-check), written into PostgreSQL as accepted
 * evidence would leave them, and a model described as plain data (every history, every identifier's operators,
 * partner contact) so that two models are equal exactly when their descriptions are.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import type { ReadModel } from '../../src/lookup/read-model.ts';
import { PROGRAMMES, type Programme, ROLES, type Role } from '../../src/protocol/record.ts';
import type { Sql } from '../../src/store/types.ts';

export interface GenVersion {
  issuer: string;
  aeoId: string;
  version: number;
  recordId: string;
  digest: string;
  status: 'certified' | 'suspended' | 'revoked' | 'withdrawn';
  statusSince: string;
  programme: Programme;
  roles: Role[];
  receivedAt: number;
  identifiers: { scheme: string; value: string }[];
}

const DAY = 86_400_000;
const BASE = Date.parse('2025-01-01T00:00:00Z');
const hex = (n: number) => createHash('sha256').update(String(n)).digest('hex');

/** Operators of a few issuers, 1 to 4 versions each, identifiers drawn from a small pool so that some are shared. */
export const versionsArb = fc
  .array(
    fc.record({
      issuer: fc.constantFrom('CL', 'PE', 'MX'),
      n: fc.integer({ min: 1, max: 40 }),
      versions: fc.array(
        fc.record({
          status: fc.constantFrom('certified', 'suspended', 'revoked', 'withdrawn' as const),
          sinceDay: fc.integer({ min: 0, max: 600 }),
          programme: fc.constantFrom(...PROGRAMMES),
          roles: fc.subarray([...ROLES], { minLength: 1 }),
          receivedDay: fc.integer({ min: 0, max: 600 }),
          receivedMs: fc.integer({ min: 0, max: DAY - 1 }),
          ids: fc.uniqueArray(fc.integer({ min: 1, max: 30 }), { maxLength: 3 }),
        }),
        { minLength: 1, maxLength: 4 },
      ),
    }),
    { minLength: 1, maxLength: 25 },
  )
  .map((ops) => {
    const seen = new Set<string>();
    const out: GenVersion[] = [];
    let serial = 0;
    for (const op of ops) {
      const aeoId = `${op.issuer}AEO${op.n}`;
      if (seen.has(aeoId)) continue;
      seen.add(aeoId);
      op.versions.forEach((v, i) => {
        serial += 1;
        const h = hex(serial + out.length * 7919 + op.n);
        out.push({
          issuer: op.issuer,
          aeoId,
          version: i + 1,
          recordId: `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`,
          digest: Buffer.from(h.slice(0, 64), 'hex').toString('base64url'),
          status: v.status,
          statusSince: new Date(BASE + v.sinceDay * DAY).toISOString().slice(0, 10),
          programme: v.programme,
          roles: ROLES.filter((r) => v.roles.includes(r)),
          receivedAt: BASE + v.receivedDay * DAY + v.receivedMs + i,
          identifiers: v.ids.map((k) => ({ scheme: k % 2 === 0 ? 'TIN' : 'EORI', value: `V${k}` })),
        });
      });
    }
    return out;
  });

/** Writes `versions` as accepted evidence, the latest of each operator as its state with its identifiers. */
export async function writeVersions(sql: Sql, versions: readonly GenVersion[]): Promise<void> {
  if (versions.length === 0) return;
  const receipt = crypto.randomUUID();
  await sql.query(
    `INSERT INTO inbound_receipt (receipt_id, sender, received_at, record_count, accepted_count, receipt_jws)
     VALUES ($1, $2, $3, $4, $4, 'test')`,
    [receipt, versions[0]!.issuer, new Date(Math.max(...versions.map((v) => v.receivedAt))), versions.length],
  );
  const doc = (v: GenVersion) => ({
    status: v.status,
    statusSince: v.statusSince,
    programme: v.programme,
    operator: { roles: v.roles },
  });
  await sql.query(
    `INSERT INTO inbound_record (record_id, issuer, aeo_id, version, jws, jws_digest, payload_sha256,
       signer_fingerprint, outcome, issued_at, received_at, receipt_id, kept_payload)
     SELECT (x->>'recordId')::uuid, x->>'issuer', x->>'aeoId', (x->>'version')::bigint, NULL, x->>'digest', 'test',
       'test', 'accepted', to_timestamp((x->>'receivedAt')::float8 / 1000), to_timestamp((x->>'receivedAt')::float8 / 1000),
       $2, x->'doc'
     FROM jsonb_array_elements($1::jsonb) AS x`,
    [JSON.stringify(versions.map((v) => ({ ...v, doc: doc(v) }))), receipt],
  );
  const latest = new Map<string, GenVersion>();
  for (const v of versions) {
    const key = `${v.issuer}/${v.aeoId}`;
    if ((latest.get(key)?.version ?? 0) < v.version) latest.set(key, v);
  }
  for (const v of latest.values()) {
    await sql.query(
      `INSERT INTO operator_state (issuer, aeo_id, version, record_id, status, status_since, programme, roles, name,
         payload, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'Test', $9, now())
       ON CONFLICT (issuer, aeo_id) DO UPDATE SET version = EXCLUDED.version, record_id = EXCLUDED.record_id,
         status = EXCLUDED.status, status_since = EXCLUDED.status_since, programme = EXCLUDED.programme,
         roles = EXCLUDED.roles WHERE operator_state.version < EXCLUDED.version`,
      [v.issuer, v.aeoId, v.version, v.recordId, v.status, v.statusSince, v.programme, v.roles, doc(v)],
    );
    await sql.query('DELETE FROM operator_identifier WHERE issuer = $1 AND aeo_id = $2', [v.issuer, v.aeoId]);
    for (const i of v.identifiers)
      await sql.query(
        'INSERT INTO operator_identifier (scheme, value, issuer, aeo_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
        [i.scheme, i.value, v.issuer, v.aeoId],
      );
  }
}

/** Empties what the read model is loaded from, and its snapshot. */
export async function emptyEvidence(sql: Sql): Promise<void> {
  await sql.query(
    'TRUNCATE read_model_snapshot, read_model_snapshot_part, operator_identifier, operator_state, inbound_record, inbound_receipt CASCADE',
  );
}

/** Everything a model answers from, as plain data. */
export function describeModel(model: ReadModel, partners: readonly string[] = ['CL', 'PE', 'MX']) {
  const operators: unknown[] = [];
  for (let slot = 0; slot < model.operatorCount; slot += 1)
    operators.push([model.issuerOf(slot), model.aeoIdOf(slot), model.history(slot)]);
  operators.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  const identifiers: unknown[] = [];
  for (const scheme of ['TIN', 'EORI'])
    for (let k = 1; k <= 30; k += 1) {
      const found = model
        .findByIdentifier(scheme, `V${k}`, undefined)
        .map((slot) => `${model.issuerOf(slot)}/${model.aeoIdOf(slot)}`)
        .sort();
      if (found.length > 0) identifiers.push([scheme, k, found]);
    }
  return {
    versions: model.versionCount,
    operators,
    identifiers,
    byIssuer: [...model.operatorsByIssuer()].sort(),
    contact: partners.map((p) => model.lastReceivedFrom(p) ?? null),
    lastChangeAt: model.lastChangeAt ?? null,
  };
}
