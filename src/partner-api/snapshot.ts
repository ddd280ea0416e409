/**
 * `GET /mra/v1/snapshot` (docs/protocol.md, Endpoints): the latest record of every operator shared with the calling
 * partner, paged by aeoId, with `asOf`, `count` and `digest` of the whole snapshot on every page.
 *
 * Paging stays consistent while new records commit: the first page pins the seq high-water mark of what was
 * shared with the partner, and every later page reads only records at or below it, so all pages describe
 * one state and carry one digest. `seq` follows commit order, so that state is exactly "everything committed
 * for the partner when the first page was taken"; `asOf` is that moment (docs/protocol.md).
 */
import { GatewayError } from '../errors.ts';
import { snapshotDigest } from '../protocol/snapshot-digest.ts';
import type { Store } from '../store/types.ts';
import { decodeSnapshotCursor, encodeSnapshotCursor, type SnapshotCursor } from './cursor.ts';

export interface SnapshotPage {
  asOf: string;
  count: number;
  digest: string;
  records: string[];
  next: string;
}

export interface Snapshots {
  page(partner: string, after: string | undefined, limit: number): Promise<SnapshotPage>;
}

/**
 * The whole-snapshot summary is the same for every page of one snapshot, and a (partner, high-water mark)
 * pair always names the same rows (records and outbox rows are only ever added, with a higher seq), so it is
 * computed once per snapshot rather than once per page. A handful of snapshots at a time is plenty.
 */
const SUMMARY_CACHE_ENTRIES = 32;

// The latest shared record per operator at or below the high-water mark. aeoIds compare bytewise (COLLATE
// "C"), the order of the digest's lines, whatever the database's own collation. Retention removes every
// record text of a withdrawn operator at once, so an operator whose records were redacted drops out of the
// snapshot (count, digest and pages alike) rather than falling back to an older version.
const LATEST = `
  SELECT DISTINCT ON (h.aeo_id COLLATE "C") h.aeo_id, h.version::text AS version, h.digest, h.jws
    FROM outbox o JOIN home_record h ON h.seq = o.record_seq
   WHERE o.partner = $1 AND o.record_seq <= $2::bigint AND h.jws IS NOT NULL`;

export function createSnapshots(deps: { store: Store; home: string; clock: () => Date }): Snapshots {
  const summaries = new Map<string, { count: number; digest: string }>();

  async function highWaterOf(partner: string): Promise<bigint> {
    const [row] = await deps.store.query<{ hw: string }>(
      'SELECT coalesce(max(record_seq), 0)::text AS hw FROM outbox WHERE partner = $1',
      [partner],
    );
    return BigInt(row?.hw ?? '0');
  }

  async function summaryOf(partner: string, highWater: bigint) {
    const key = `${partner}:${highWater}`;
    const cached = summaries.get(key);
    if (cached !== undefined) return cached;
    const rows = await deps.store.query<{ aeo_id: string; version: string; digest: string }>(
      `SELECT aeo_id, version, digest FROM (${LATEST} ORDER BY h.aeo_id COLLATE "C", h.seq DESC) s`,
      [partner, highWater.toString()],
    );
    const summary = {
      count: rows.length,
      digest: snapshotDigest(
        rows.map((r) => ({ issuer: deps.home, aeoId: r.aeo_id, version: r.version, recordDigest: r.digest })),
      ),
    };
    if (summaries.size >= SUMMARY_CACHE_ENTRIES) summaries.delete(summaries.keys().next().value!);
    summaries.set(key, summary);
    return summary;
  }

  async function page(partner: string, after: string | undefined, limit: number): Promise<SnapshotPage> {
    let cursor: SnapshotCursor;
    if (after === undefined) {
      // The moment is taken before the mark, so everything committed by asOf is below it.
      const asOf = deps.clock();
      cursor = { highWater: await highWaterOf(partner), asOfMs: asOf.getTime(), lastAeoId: '' };
    } else {
      cursor = decodeSnapshotCursor(after);
      // A mark above what is committed would let records committed later into an old snapshot.
      if (cursor.highWater > (await highWaterOf(partner))) {
        throw new GatewayError('BAD_REQUEST', "after is not a cursor of this gateway's snapshot");
      }
    }
    const summary = await summaryOf(partner, cursor.highWater);
    const rows = await deps.store.query<{ aeo_id: string; jws: string }>(
      `SELECT aeo_id, jws FROM (${LATEST} AND h.aeo_id COLLATE "C" > $3
         ORDER BY h.aeo_id COLLATE "C", h.seq DESC) s
       ORDER BY aeo_id COLLATE "C" LIMIT $4`,
      [partner, cursor.highWater.toString(), cursor.lastAeoId, limit],
    );
    const last = rows.at(-1);
    return {
      asOf: new Date(cursor.asOfMs).toISOString(),
      count: summary.count,
      digest: summary.digest,
      records: rows.map((r) => r.jws),
      next: encodeSnapshotCursor({
        ...cursor,
        lastAeoId: last === undefined ? cursor.lastAeoId : last.aeo_id,
      }),
    };
  }

  return { page };
}
