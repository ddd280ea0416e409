/**
 * The snapshot digest of docs/protocol.md (Endpoints, snapshot): both sides compute it the same way, the sender
 * over what it shares with a partner, the receiver over what it holds of that partner, so equal digests
 * prove equal state.
 */
import { createHash } from 'node:crypto';

export interface SnapshotLine {
  issuer: string;
  aeoId: string;
  /** Decimal, as stored: the version of the latest record held for the operator. */
  version: number | string;
  /** base64url SHA-256 of the record's compact JWS. */
  recordDigest: string;
}

export function lineOf(l: SnapshotLine): string {
  return `${l.issuer}\t${l.aeoId}\t${String(l.version)}\t${l.recordDigest}\n`;
}

/** Lowercase hex SHA-256 of the lines, sorted bytewise (UTF-8), concatenated. */
export function snapshotDigest(lines: readonly SnapshotLine[]): string {
  // Sorted as bytes rather than as JavaScript strings, whose UTF-16 order differs beyond the BMP.
  const encoded = lines.map((l) => Buffer.from(lineOf(l), 'utf8')).sort(Buffer.compare);
  const hash = createHash('sha256');
  for (const line of encoded) hash.update(line);
  return hash.digest('hex');
}
