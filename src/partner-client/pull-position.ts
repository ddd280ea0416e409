/**
 * What reading a partner's paged feed needs on this side, for records (`GET /feed`) and for monitoring
 * summaries (`GET /monitoring`) alike: the position reached in it, kept per partner, and the check of a page
 * the partner answered, which is untrusted until its shape is known.
 */
import type { Logger } from 'pino';
import type { Sql } from '../store/types.ts';

/** The longest cursor taken from a partner. */
export const MAX_CURSOR = 1024;

/** Where each feed's position is kept: records in `partner_feed`, summaries in `monitoring_summary_pull`. */
export type PositionTable = 'partner_feed' | 'monitoring_summary_pull';

export interface PullPositions {
  load(partner: string): Promise<string | null>;
  /** After the page was committed: the cursor, the time of the read, and no error. */
  save(partner: string, cursor: string): Promise<void>;
  /** Never throws: the store may be what failed, and the log still says what happened. */
  saveError(partner: string, message: string): Promise<void>;
}

export function pullPositions(
  sql: Sql,
  table: PositionTable,
  deps: { clock: () => Date; log: Logger },
): PullPositions {
  return {
    async load(partner) {
      const [row] = await sql.query<{ cursor: string | null }>(
        `SELECT cursor FROM ${table} WHERE partner = $1`,
        [partner],
      );
      return row?.cursor ?? null;
    },
    async save(partner, cursor) {
      await sql.query(
        `INSERT INTO ${table} (partner, cursor, pulled_at, last_error) VALUES ($1, $2, $3, NULL)
         ON CONFLICT (partner) DO UPDATE SET cursor = EXCLUDED.cursor, pulled_at = EXCLUDED.pulled_at,
           last_error = NULL`,
        [partner, cursor, deps.clock().toISOString()],
      );
    },
    async saveError(partner, message) {
      try {
        await sql.query(
          `INSERT INTO ${table} (partner, last_error) VALUES ($1, $2)
           ON CONFLICT (partner) DO UPDATE SET last_error = EXCLUDED.last_error`,
          [partner, message.slice(0, 500)],
        );
      } catch (error) {
        deps.log.warn({ partner, err: error }, `could not record the error of a pull (${table})`);
      }
    },
  };
}

/** A page of `member` (JWS strings) and its `next` cursor, checked: at most `limit` items. */
export function feedPageOf(
  body: unknown,
  member: 'records' | 'summaries',
  limit: number,
): { items: string[]; next: string } {
  const what = member === 'records' ? 'feed page' : 'monitoring page';
  if (typeof body !== 'object' || body === null) throw new Error(`${what} is not a JSON object`);
  const page = body as Record<string, unknown>;
  const items = page[member];
  const { next } = page;
  if (!Array.isArray(items) || !items.every((r) => typeof r === 'string')) {
    throw new Error(`${what}: ${member} must be an array of strings`);
  }
  if (items.length > limit) throw new Error(`${what} holds ${items.length} ${member}, ${limit} were asked`);
  if (typeof next !== 'string' || next.length === 0 || next.length > MAX_CURSOR) {
    throw new Error(`${what}: next must be a cursor of 1 to ${MAX_CURSOR} characters`);
  }
  return { items: items as string[], next };
}
