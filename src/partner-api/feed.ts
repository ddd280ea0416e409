/**
 * `GET /mra/v1/feed` (docs/protocol.md, Endpoints): the records this gateway published to one partner, in the
 * order it committed them, from a cursor. What was shared with a partner is exactly its outbox rows, which
 * publish.ts writes in the record's own transaction; `home_record.seq` follows commit order (publishing
 * holds one lock), so a cursor on seq never skips a record that commits late.
 */
import type { Store } from '../store/types.ts';
import { decodeFeedCursor, encodeFeedCursor } from './cursor.ts';

/** docs/protocol.md is silent; what this gateway serves when `limit` is absent, and at most. */
export const DEFAULT_PAGE_LIMIT = 500;
export const MAX_PAGE_LIMIT = 1000;

export interface FeedPage {
  records: string[];
  /** Where the next page starts: after the last record of this page, or where this page started. */
  next: string;
}

export async function feedPage(
  store: Store,
  partner: string,
  after: string | undefined,
  limit: number,
): Promise<FeedPage> {
  const from = after === undefined ? 0n : decodeFeedCursor(after).seq;
  const rows = await store.query<{ seq: string; jws: string }>(
    `SELECT h.seq::text, h.jws FROM outbox o JOIN home_record h ON h.seq = o.record_seq
      WHERE o.partner = $1 AND o.record_seq > $2::bigint AND h.jws IS NOT NULL
      ORDER BY o.record_seq LIMIT $3`,
    [partner, from.toString(), limit],
  );
  const last = rows.at(-1);
  return {
    records: rows.map((r) => r.jws),
    next: encodeFeedCursor({ seq: last === undefined ? from : BigInt(last.seq) }),
  };
}
