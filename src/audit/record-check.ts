/** Stored rows against the signed texts they were taken from, for verification (verify-*.ts). */
import { createHash } from 'node:crypto';
import { recordDigest, sha256Hex } from '../crypto/digest.ts';
import { canonicalJson } from './encoding.ts';

function segment(jws: string, index: number): Buffer | undefined {
  const text = jws.split('.')[index];
  return text === undefined ? undefined : Buffer.from(text, 'base64url');
}

function objectOf(bytes: Buffer | undefined): Record<string, unknown> | undefined {
  if (bytes === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The payload of a compact JWS as JSON, or undefined when it is not one. */
export function payloadOf(jws: string): Record<string, unknown> | undefined {
  return objectOf(segment(jws, 1));
}

/** Lowercase hex SHA-256 of the payload bytes, as `payload_sha256` columns hold it. */
export function payloadSha256Of(jws: string): string {
  return sha256Hex(segment(jws, 1) ?? Buffer.alloc(0));
}

/** The SHA-256 fingerprint of the signing certificate (the first of x5c), as `signer_fingerprint` holds it. */
export function signerFingerprintOf(jws: string): string | undefined {
  const x5c = objectOf(segment(jws, 0))?.x5c;
  const leaf = Array.isArray(x5c) ? x5c[0] : undefined;
  if (typeof leaf !== 'string') return undefined;
  return createHash('sha256').update(Buffer.from(leaf, 'base64')).digest('hex');
}

const INSTANT = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/;

/**
 * Whether an instant stored by PostgreSQL (microseconds, `YYYY-MM-DDTHH:MM:SS.ffffffZ`) is the one a signed
 * text states (UTC, up to nine fractional digits): equal to the microsecond, or, where the text is finer,
 * one of the two microseconds around it (PostgreSQL rounds).
 */
export function sameInstant(stored: string | null, signed: unknown): boolean {
  if (stored === null || typeof signed !== 'string') return false;
  const a = micros(stored);
  const b = INSTANT.exec(signed);
  if (a === undefined || b === null) return false;
  const fraction = (b[2] ?? '').padEnd(9, '0');
  const whole = Date.parse(`${b[1]}Z`) * 1000 + Number(fraction.slice(0, 6));
  return a === whole || (Number(fraction.slice(6)) > 0 && a === whole + 1);
}

function micros(text: string): number | undefined {
  const m = INSTANT.exec(text);
  if (m === null) return undefined;
  return Date.parse(`${m[1]}Z`) * 1000 + Number((m[2] ?? '').padEnd(6, '0').slice(0, 6));
}

/** JSON values equal as canonical JSON (jsonb keeps neither member order nor white space). */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a ?? null) === canonicalJson(b ?? null);
}

/** A column's name and whether it holds what the signed text states. */
export type ColumnCheck = readonly [column: string, same: boolean];

/** The first column that differs, as a problem, or undefined. */
export function columnsProblem(checks: readonly ColumnCheck[], source: string): string | undefined {
  const differs = checks.filter(([, same]) => !same).map(([column]) => column);
  return differs.length === 0
    ? undefined
    : `${differs.join(', ')} differ${differs.length === 1 ? 's' : ''} from ${source}`;
}

export interface RecordRow {
  record_id: string;
  issuer?: string;
  aeo_id: string;
  version: string;
  status?: string;
  jws: string | null;
  digest: string;
  redacted_at: string | null;
  payload_sha256?: string;
  signer_fingerprint?: string;
  issued_at?: string;
  kept_payload?: Record<string, unknown> | null;
}

/**
 * A record row against its JWS: the digest, then the columns the payload states. A row without its JWS must
 * be one retention redacted; it then verifies by what it kept (its digest, which the receipt or the published
 * range anchors, and the kept payload its columns must agree with).
 */
export function recordProblem(r: RecordRow): string | 'redacted' | undefined {
  if (r.jws === null) {
    if (r.redacted_at === null) return 'the JWS is missing and the row was not redacted';
    const kept = r.kept_payload;
    if (kept === undefined || kept === null) return 'redacted';
    return columnsProblem(columnChecks(r, kept), 'the payload kept at redaction') ?? 'redacted';
  }
  if (recordDigest(r.jws) !== r.digest) return 'the JWS differs from its digest';
  const p = payloadOf(r.jws);
  if (p === undefined) return 'the JWS holds no payload';
  return columnsProblem(
    [
      ...columnChecks(r, p),
      ['payload_sha256', r.payload_sha256 === undefined || r.payload_sha256 === payloadSha256Of(r.jws)],
      [
        'signer_fingerprint',
        r.signer_fingerprint === undefined || r.signer_fingerprint === signerFingerprintOf(r.jws),
      ],
    ],
    'what the JWS states',
  );
}

function columnChecks(r: RecordRow, p: Record<string, unknown>): ColumnCheck[] {
  const operator = p.operator as { aeoId?: unknown } | undefined;
  return [
    ['record_id', p.recordId === r.record_id],
    ['issuer', r.issuer === undefined || p.issuer === r.issuer],
    ['aeo_id', operator?.aeoId === r.aeo_id],
    ['version', String(p.version) === r.version],
    ['status', r.status === undefined || p.status === r.status],
    ['issued_at', r.issued_at === undefined || sameInstant(r.issued_at, p.issuedAt)],
  ];
}
