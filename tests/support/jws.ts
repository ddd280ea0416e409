/**
 * Hand-built compact JWS for tests of the strict front: any header text, any segment, any signature, so that
 * every malformation can be made exactly. Nothing here checks anything.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type JwsProfile, precheckCompactJws, RECORD_PROFILE } from '../../src/crypto/compact-jws.ts';
import type { RecordRejectionCode } from '../../src/errors.ts';

export const b64url = (data: string | Uint8Array): string =>
  Buffer.from(typeof data === 'string' ? Buffer.from(data, 'utf8') : data).toString('base64url');

/** Stand-in certificates: the precheck judges only their encoding, never their DER. */
export const FAKE_LEAF_DER = new Uint8Array(
  Buffer.concat([Buffer.from([0x30, 0x82, 0x01, 0x00]), randomBytes(256)]),
);
export const FAKE_CA_DER = new Uint8Array(
  Buffer.concat([Buffer.from([0x30, 0x82, 0x01, 0x00]), randomBytes(300)]),
);
export const FAKE_X5C = [
  Buffer.from(FAKE_LEAF_DER).toString('base64'),
  Buffer.from(FAKE_CA_DER).toString('base64'),
];
export const FAKE_KID = createHash('sha256').update(FAKE_LEAF_DER).digest('base64url');

/** A header the record profile accepts; spread and override members to break one rule at a time. */
export function recordHeader(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { alg: 'ES256', typ: 'aeo-status+jws', x5c: FAKE_X5C, kid: FAKE_KID, ...overrides };
}

export const PAYLOAD_SEGMENT = b64url('{"schema":"aeo-status/1"}');
export const SIGNATURE_SEGMENT = b64url(new Uint8Array(64).fill(7));

/** header: an object (serialised with JSON.stringify) or the exact header text. */
export function compactJws(
  header: Record<string, unknown> | string,
  payloadSegment = PAYLOAD_SEGMENT,
  signatureSegment = SIGNATURE_SEGMENT,
): string {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  return `${b64url(text)}.${payloadSegment}.${signatureSegment}`;
}

/** The precheck's verdict in one word: 'ok' or the rejection code. */
export function codeOf(token: unknown, profile: JwsProfile = RECORD_PROFILE): RecordRejectionCode | 'ok' {
  const result = precheckCompactJws(token, profile);
  return result.ok ? 'ok' : result.code;
}

/** Flips the spare low bits of a segment's last character (its length mod 4 must be 2 or 3). */
export function nonCanonical(segment: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(segment.at(-1) ?? '');
  return segment.slice(0, -1) + alphabet[last | 1];
}
