/**
 * Fills a migrated database with `count` foreign operators of one partner, as if each had been received in an
 * accepted batch: one row each in inbound_record (evidence), operator_state and two in operator_identifier
 * (TIN, EORI), plus one receipt. Rows are made by PostgreSQL itself (generate_series), in chunks on two
 * connections, so a million take about a minute rather than an hour of signing and posting.
 *
 * The read model decodes the payload of each stored JWS (src/lookup/load.ts) and never re-verifies it (that
 * was done on receipt). So every row carries a real record's protected header (alg, kid, x5c) and signature
 * segment, around a payload made from that record with its operator fields varied: rows have the size and
 * shape of real evidence, but only the template row's signature is valid. jws_digest is the real SHA-256 of
 * each stored token.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { sampleRecord } from '../../src/cli/samples.ts';
import { type DevAdministration, devConfig, writeConfig } from '../../src/cli/setup.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createDevAdministration } from '../../src/crypto/dev-ca.ts';
import type { AeoStatusRecord } from '../../src/protocol/record.ts';
import { signRecord } from '../../src/publishing/sign-record.ts';
import { cleanups } from './cleanup.ts';
import { freePort } from './gateway-process.ts';

export const CHUNK = 50_000;

export interface OperatorTemplate {
  /** A real signed record of the partner, compact JWS. */
  jws: string;
  record: AeoStatusRecord;
}

/** Every 20th operator is suspended, every 3rd a small enterprise. */
export const aeoIdOf = (issuer: string, n: number) => `${issuer}AEO${String(n).padStart(8, '0')}`;
export const tinOf = (issuer: string, n: number) => `${issuer}${20_000_000 + n}`;

function payloadTemplate(record: AeoStatusRecord): string {
  const r: AeoStatusRecord = {
    ...record,
    recordId: '__RID__',
    status: '__STATUS__' as AeoStatusRecord['status'],
    operator: {
      ...record.operator,
      aeoId: '__AEO__',
      identifiers: [
        { scheme: 'TIN', value: '__TIN__' },
        { scheme: 'EORI', value: '__EORI__' },
      ],
      name: 'Exportadora Andina __N__ S.A.C.',
      enterpriseSize: '__SIZE__' as 'small',
    },
  };
  return JSON.stringify(r);
}

const ROWS = `
  g AS (
    SELECT n, $3::text || 'AEO' || lpad(n::text, 8, '0') AS aeo, md5('mra-bench-' || n)::uuid AS rid,
           CASE WHEN n % 20 = 0 THEN 'suspended' ELSE 'certified' END AS status,
           CASE WHEN n % 3 = 0 THEN 'small' ELSE 'large' END AS size
      FROM generate_series($1::int, $2::int) AS n),
  p AS (
    SELECT g.*, replace(replace(replace(replace(replace(replace(replace($4::text,
             '__RID__', rid::text), '__AEO__', aeo), '__TIN__', $3 || (20000000 + n)),
             '__EORI__', $3 || (900000000 + n)), '__N__', n::text), '__STATUS__', status), '__SIZE__', size)
           AS payload
      FROM g)`;

async function fillChunk(c: pg.Client, lo: number, hi: number, args: unknown[]): Promise<void> {
  await c.query('BEGIN');
  await c.query(
    `WITH ${ROWS},
     j AS (SELECT p.*, $5::text || '.' || rtrim(translate(replace(encode(convert_to(payload, 'UTF8'), 'base64'),
             E'\\n', ''), '+/', '-_'), '=') || '.' || $6::text AS jws FROM p)
     INSERT INTO inbound_record (record_id, issuer, aeo_id, version, jws, jws_digest, payload_sha256,
       signer_fingerprint, outcome, issued_at, received_at, receipt_id)
     SELECT rid, $3, aeo, 1, jws,
            rtrim(translate(encode(sha256(convert_to(jws, 'UTF8')), 'base64'), '+/', '-_'), '='),
            encode(sha256(convert_to(payload, 'UTF8')), 'hex'), $7, 'accepted', $8, $8, $9::uuid
       FROM j`,
    [lo, hi, ...args],
  );
  const [issuer, template, , , , receivedAt] = args;
  await c.query(
    `WITH ${ROWS}
     INSERT INTO operator_state (issuer, aeo_id, version, record_id, status, status_since, programme, roles, name,
       enterprise_size, payload, updated_at)
     SELECT $3, aeo, 1, rid, status, (payload::jsonb->>'statusSince')::date, payload::jsonb->>'programme',
            ARRAY(SELECT jsonb_array_elements_text(payload::jsonb->'operator'->'roles')),
            payload::jsonb->'operator'->>'name', size, payload::jsonb, $5
       FROM p`,
    [lo, hi, issuer, template, receivedAt],
  );
  await c.query(
    `INSERT INTO operator_identifier (scheme, value, issuer, aeo_id)
     SELECT s.scheme, $3 || (s.base + n), $3, $3 || 'AEO' || lpad(n::text, 8, '0')
       FROM generate_series($1::int, $2::int) AS n
      CROSS JOIN (VALUES ('TIN', 20000000), ('EORI', 900000000)) AS s(scheme, base)`,
    [lo, hi, issuer],
  );
  await c.query('COMMIT');
}

/** Inserts operators 1..count of `issuer`; `progress` is called after each chunk with the number done. */
export async function fillOperators(
  url: string,
  count: number,
  template: OperatorTemplate,
  progress: (done: number) => void,
): Promise<void> {
  const [header, , signature] = template.jws.split('.');
  const issuer = template.record.issuer;
  const receiptId = crypto.randomUUID();
  // A day ago: every version is in effect now (effectiveFrom = max(statusSince, receivedAt)).
  const receivedAt = new Date(Date.now() - 86_400_000).toISOString();
  const setup = new pg.Client({ connectionString: url });
  await setup.connect();
  try {
    await setup.query(
      `INSERT INTO inbound_receipt (receipt_id, sender, received_at, record_count, accepted_count, receipt_jws)
       VALUES ($1, $2, $3, $4, $4, 'bench: generated rows, no receipt was signed')`,
      [receiptId, issuer, receivedAt, count],
    );
  } finally {
    await setup.end();
  }
  const args = [
    issuer,
    payloadTemplate(template.record),
    header,
    signature,
    'bench-generated',
    receivedAt,
    receiptId,
  ];
  let next = 1;
  let done = 0;
  const lane = async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query('SET synchronous_commit = off');
      while (next <= count) {
        const lo = next;
        const hi = Math.min(count, lo + CHUNK - 1);
        next = hi + 1;
        await fillChunk(c, lo, hi, args);
        done += hi - lo + 1;
        progress(done);
      }
    } finally {
      await c.end();
    }
  };
  await Promise.all([lane(), lane()]);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    // As autovacuum would have done by then: the visibility map lets the start count evidence from an index.
    await c.query('VACUUM ANALYZE inbound_record, operator_state, operator_identifier');
  } finally {
    await c.end();
  }
}

export interface ForeignSetup {
  /** The configuration file of CL's gateway, which holds PE's operators. */
  clPath: string;
  apiUrl: string;
  /** A border token of CL's gateway. */
  token: string;
  /** A monitoring token of CL's gateway (its reports). */
  monitoringToken: string;
  /** A record PE signed, the template of every generated operator. */
  template: OperatorTemplate;
}

/**
 * Two development administrations in a temporary folder (removed at clean-up): PE, whose operators are
 * generated, and CL, the receiving gateway, with a border token and no rate limit to speak of.
 */
export async function foreignSetup(prefix: string): Promise<ForeignSetup> {
  const dir = mkdtempSync(join(os.tmpdir(), prefix));
  cleanups.add(() => rmSync(dir, { recursive: true, force: true }));
  const dev = async (adminId: string, name: string): Promise<DevAdministration> => {
    const certDir = join(dir, 'certs', adminId);
    createDevAdministration(adminId, certDir, {});
    return { adminId, name, certDir, host: '127.0.0.1', port: await freePort(), apiPort: await freePort() };
  };
  const pe = await dev('PE', 'SUNAT Peru');
  const cl = await dev('CL', 'Servicio Nacional de Aduanas Chile');
  const pePath = join(dir, 'PE.yaml');
  writeConfig(pePath, devConfig(pe, [cl], { mtls: false, dataDir: join(dir, 'data', 'PE') }));
  const signer = loadConfig(pePath, { env: { LOG_LEVEL: 'warn' } }).home.signers[0]!;
  const record = sampleRecord('PE', 0);
  const clPath = join(dir, 'CL.yaml');
  const raw = devConfig(cl, [pe], { mtls: false, dataDir: join(dir, 'data', 'CL') });
  const token = 'bench-border-token-0123456789abcdef';
  const monitoringToken = 'bench-monitoring-token-0123456789abcdef';
  const sha256 = (t: string) => createHash('sha256').update(t).digest('hex');
  raw.apiClients = [
    { id: 'bench-border', tokenSha256: sha256(token), scopes: ['border'] },
    { id: 'bench-monitoring', tokenSha256: sha256(monitoringToken), scopes: ['monitoring'] },
  ];
  raw.server = { ...raw.server, rateLimitPerMinute: 1_000_000 };
  writeConfig(clPath, raw);
  return {
    clPath,
    apiUrl: `http://127.0.0.1:${cl.apiPort}`,
    token,
    monitoringToken,
    template: { record, jws: await signRecord(record, signer) },
  };
}
