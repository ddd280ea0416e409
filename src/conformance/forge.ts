/**
 * What the kit sends: records and summaries of its own test namespace, signed with the kit's signing key by the
 * project's own signing code, and hand-made compact JWS broken exactly one way each (the header and payload are
 * the bytes given, signed with node:crypto), so the target's strictness is seen one rule at a time.
 */
import {
  constants,
  createHash,
  createHmac,
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
  sign,
} from 'node:crypto';
import type { Signer } from '../config/types.ts';
import { buildCertificate } from '../crypto/cert-builder.ts';
import { RECORD_PROFILE } from '../crypto/compact-jws.ts';
import { signCompactJws } from '../crypto/jws-verify.ts';
import { MONITORING_SUMMARY_TYP, type MonitoringSummary } from '../protocol/monitoring-summary.ts';
import { type AeoStatusRecord, PROGRAMMES, type Programme, ROLES, type Role } from '../protocol/record.ts';
import { signRecord } from '../publishing/sign-record.ts';
import type { Kit } from './types.ts';

/** The profile of a monitoring summary: a record's, with its own `typ`. */
export const SUMMARY_PROFILE = Object.freeze({ ...RECORD_PROFILE, typ: MONITORING_SUMMARY_TYP });

/** Legal name of every kit operator: no one reading a register or a lookup can take it for a real AEO. */
export const TEST_OPERATOR_NAME = 'CONFORMANCE KIT TEST OPERATOR - NOT A REAL AEO';

/** The test period of the kit's monitoring summaries: a month no real review covers. */
export const TEST_PERIOD = { from: '1900-01-01', to: '1900-01-31' } as const;

export type JsonBytes = object | string;

const b64u = (data: Uint8Array | string) =>
  Buffer.from(typeof data === 'string' ? Buffer.from(data, 'utf8') : data).toString('base64url');
const bytesOf = (value: JsonBytes) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

/** A programme and a role inside the MRA's scope as the kit's configuration states it. */
export function inScope(kit: Kit): { programme: Programme; role: Role } {
  const programme = PROGRAMMES.find((p) => kit.target.mra.programmes.has(p)) ?? 'AEO-F';
  const role = ROLES.find((r) => kit.target.mra.roles.has(r)) ?? 'exporter';
  return { programme, role };
}

let serial = 0;

/** A new operator of the kit's namespace, version 1, certified, in scope. */
export function testRecord(kit: Kit, overrides: Partial<AeoStatusRecord> = {}): AeoStatusRecord {
  serial += 1;
  const aeoId = `${kit.namespace}${String(serial).padStart(3, '0')}`;
  const { programme, role } = inScope(kit);
  return {
    schema: 'aeo-status/1',
    recordId: randomUUID(),
    issuer: kit.home,
    issuedAt: new Date().toISOString(),
    version: 1,
    operator: {
      aeoId,
      identifiers: [{ scheme: 'NATIONAL', value: aeoId }],
      name: TEST_OPERATOR_NAME,
      address: { street: 'Conformance test address 1', city: 'Test city', country: kit.home },
      roles: [role],
    },
    programme,
    status: 'certified',
    statusSince: '2020-01-01',
    certifiedOn: '2020-01-01',
    ...overrides,
  };
}

/** The same operator, another version and recordId. */
export function nextVersion(
  record: AeoStatusRecord,
  version: number,
  overrides: Partial<AeoStatusRecord> = {},
): AeoStatusRecord {
  return { ...record, recordId: randomUUID(), version, issuedAt: new Date().toISOString(), ...overrides };
}

export function signed(kit: Kit, record: AeoStatusRecord): Promise<string> {
  return signRecord(record, kit.signer);
}

/** The header the kit's signer writes, plus or minus members (`undefined` removes one). */
export function header(
  signer: Signer,
  typ: string,
  changes: Record<string, unknown> = {},
): Record<string, unknown> {
  const h: Record<string, unknown> = { alg: signer.alg, typ, x5c: [...signer.x5c], kid: signer.kid };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete h[k];
    else h[k] = v;
  }
  return h;
}

/** Signs `input` as `alg` with `key`; `none` is no signature; ES256 raw r||s unless `der`. */
function signInput(alg: string, key: KeyObject | Uint8Array, input: string, der = false): Uint8Array {
  const data = Buffer.from(input, 'utf8');
  if (alg === 'none') return new Uint8Array(0);
  if (key instanceof Uint8Array) return createHmac('sha256', key).update(data).digest();
  if (alg === 'ES256') return sign('sha256', data, { key, dsaEncoding: der ? 'der' : 'ieee-p1363' });
  if (alg === 'EdDSA') return sign(null, data, key);
  return sign('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
}

export interface ForgeOptions {
  header: JsonBytes;
  payload: JsonBytes;
  /** How the signing input is signed: an algorithm and its key (bytes: an HMAC key). */
  signAs: { alg: string; key: KeyObject | Uint8Array; der?: boolean };
  /** Applied to the finished token (to break its encoding or its signature). */
  after?: (segments: [string, string, string]) => [string, string, string];
}

export function forge(o: ForgeOptions): string {
  const h = b64u(bytesOf(o.header));
  const p = b64u(bytesOf(o.payload));
  const s = b64u(signInput(o.signAs.alg, o.signAs.key, `${h}.${p}`, o.signAs.der));
  const parts = o.after ? o.after([h, p, s]) : [h, p, s];
  return parts.join('.');
}

/** The signature segment with its first byte changed: the same length, no longer the signature. */
export function flipSignature([h, p, s]: [string, string, string]): [string, string, string] {
  const bytes = Buffer.from(s, 'base64url');
  bytes[0] = (bytes[0] ?? 0) ^ 0x01;
  return [h, p, bytes.toString('base64url')];
}

/** A self-signed P-256 signing certificate and its key: a chain that leads to no anchor of the target. */
export function strangerSigner(): { key: KeyObject; x5c: string[]; kid: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const name = { commonName: 'Conformance kit stranger', organization: 'Not a partner' };
  const now = Date.now();
  const der = buildCertificate({
    subjectPublicKey: publicKey,
    issuerPrivateKey: privateKey,
    subject: name,
    issuer: name,
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + 86_400_000),
    basicConstraints: { ca: false },
    keyUsage: ['digitalSignature'],
  });
  return {
    key: privateKey,
    x5c: [Buffer.from(der).toString('base64')],
    kid: createHash('sha256').update(der).digest('base64url'),
  };
}

/** A summary from the kit about the target's operators, for the test period, with figures that add up. */
export function testSummary(kit: Kit, overrides: Partial<MonitoringSummary> = {}): MonitoringSummary {
  return {
    schema: 'mra-monitoring/1',
    summaryId: randomUUID(),
    reporter: kit.home,
    subject: kit.target.adminId,
    mraId: kit.target.mra.id,
    period: { ...TEST_PERIOD },
    issuedAt: new Date().toISOString(),
    // A new run is a new revision of the test period, above every earlier run's.
    revision: Math.floor(Date.now() / 1000),
    figures: {
      records: { accepted: 1, duplicate: 0, superseded: 0, rejected: {} },
      lookups: { total: 1, recognised: 1, notRecognised: {} },
    },
    ...overrides,
  };
}

export function signSummaryObject(kit: Kit, summary: object): Promise<string> {
  const s = kit.signer;
  return signCompactJws(
    Buffer.from(JSON.stringify(summary), 'utf8'),
    { alg: s.alg, typ: MONITORING_SUMMARY_TYP, x5c: [...s.x5c], kid: s.kid },
    s.key,
  );
}
