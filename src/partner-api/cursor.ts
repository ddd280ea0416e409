/**
 * Cursors of `feed` and `snapshot`: opaque to partners (docs/protocol.md), here base64url of a versioned string so
 * that a later format can be told apart and an old cursor refused with a clear 400 rather than misread.
 * They are not secret and not signed: a partner that forges one only pages differently through what is
 * shared with it anyway (docs/protocol.md).
 */
import { decodeBase64urlStrict } from '../crypto/base64url.ts';
import { GatewayError } from '../errors.ts';

/** Longer than any cursor this gateway writes; refused before decoding. */
export const MAX_CURSOR_LENGTH = 256;

// Seqs are PostgreSQL bigints: 18 digits always fit. The snapshot's moment is a Date the page writes as asOf,
// so it must lie in the years 1900 to 9999 (docs/protocol.md), checked after the match.
const FEED = /^feed\/1:(0|[1-9][0-9]{0,17})$/;
const SNAPSHOT = /^snapshot\/1:(0|[1-9][0-9]{0,17}):(0|[1-9][0-9]{0,14}):([A-Z0-9./-]{0,35})$/;
const MAX_AS_OF_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Position in a partner's feed: the `home_record.seq` of the last record returned. */
export interface FeedCursor {
  seq: bigint;
}

/**
 * Position in one snapshot: the seq high-water mark pinned by its first page, the time that page was taken,
 * and the last operator returned (snapshots are ordered by aeoId, bytewise).
 */
export interface SnapshotCursor {
  highWater: bigint;
  asOfMs: number;
  lastAeoId: string;
}

export function encodeFeedCursor(c: FeedCursor): string {
  return Buffer.from(`feed/1:${c.seq}`, 'utf8').toString('base64url');
}

export function decodeFeedCursor(cursor: string): FeedCursor {
  const m = FEED.exec(decode(cursor, 'feed'));
  if (m === null) throw badCursor('feed');
  return { seq: BigInt(m[1]!) };
}

export function encodeSnapshotCursor(c: SnapshotCursor): string {
  return Buffer.from(`snapshot/1:${c.highWater}:${c.asOfMs}:${c.lastAeoId}`, 'utf8').toString('base64url');
}

export function decodeSnapshotCursor(cursor: string): SnapshotCursor {
  const m = SNAPSHOT.exec(decode(cursor, 'snapshot'));
  if (m === null || Number(m[2]!) > MAX_AS_OF_MS) throw badCursor('snapshot');
  return { highWater: BigInt(m[1]!), asOfMs: Number(m[2]!), lastAeoId: m[3]! };
}

function decode(cursor: string, kind: string): string {
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH) throw badCursor(kind);
  const bytes = decodeBase64urlStrict(cursor);
  if (bytes === null) throw badCursor(kind);
  return Buffer.from(bytes).toString('latin1');
}

function badCursor(kind: string): GatewayError {
  return new GatewayError('BAD_REQUEST', `after is not a cursor of this gateway's ${kind}`);
}
