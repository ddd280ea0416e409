import { createHash } from 'node:crypto';

/** base64url SHA-256 of a record's compact JWS string: the `digest` that receipts report (docs/protocol.md). */
export function recordDigest(jws: string): string {
  return createHash('sha256').update(jws, 'utf8').digest('base64url');
}

/** Lowercase hex SHA-256. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
