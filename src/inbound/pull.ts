/**
 * Catch-up from a partner's feed (docs/protocol.md, Endpoints: "a partner that was down catches up from its last
 * cursor"). Pulled records go through inbound.receive with the partner as sender, so they are judged by the
 * very rules of pushed ones, and a record already pushed is simply a `duplicate`.
 *
 * The cursor is saved only after receive() committed the page: a crash in between pulls the page again, and
 * it is judged `duplicate` (I1, I3). A rejected record does not hold the cursor back: its rejection is in
 * the receipt stored with the page, and waiting for it to change would block every record after it (I7).
 */
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.ts';
import type { Partner } from '../mra/types.ts';
import type { PartnerFetcher } from '../partner-client/fetch.ts';
import type { Store } from '../store/types.ts';
import type { InboundService } from './receive.ts';

/** Pages per run: a long backlog is taken in several runs rather than one unbounded loop. */
export const MAX_PULL_PAGES = 100;
/** The feed's own bound (docs/protocol.md leaves it open; this gateway serves at most 1,000). */
const MAX_FEED_LIMIT = 1000;
const MAX_CURSOR = 1024;

export interface PullReport {
  partner: string;
  pages: number;
  records: number;
  /** Receipt outcomes of the pulled records: accepted, duplicate, superseded, rejected:<code>. */
  outcomes: Record<string, number>;
  /** True when the last page was not full: nothing more was waiting. */
  caughtUp: boolean;
  cursor: string | null;
  error: string | null;
}

export interface PullDeps {
  config: GatewayConfig;
  store: Store;
  inbound: InboundService;
  fetcher: PartnerFetcher;
  log: Logger;
  clock: () => Date;
}

export function createPuller(deps: PullDeps) {
  // The page asked for is the batch size of delivery: the same load on the partner either way.
  const limit = Math.min(deps.config.outbound.batchSize, MAX_FEED_LIMIT);

  async function pull(partner: Partner): Promise<PullReport> {
    const report: PullReport = {
      partner: partner.adminId,
      pages: 0,
      records: 0,
      outcomes: {},
      caughtUp: false,
      cursor: null,
      error: null,
    };
    try {
      report.cursor = await loadCursor(partner.adminId);
      while (report.pages < MAX_PULL_PAGES && !report.caughtUp) {
        const query = new URLSearchParams({ limit: String(limit) });
        if (report.cursor !== null) query.set('after', report.cursor);
        const got = await deps.fetcher.get(partner, `/feed?${query}`);
        if (!got.ok) throw new Error(`feed: ${got.reason}`);
        const page = feedPageOf(got.body, limit);
        if (page.records.length > 0) {
          const { receipt } = await deps.inbound.receive({ records: page.records, tlsPeer: partner.adminId });
          for (const r of receipt.results) {
            const key = r.outcome === 'rejected' ? `rejected:${r.code}` : r.outcome;
            report.outcomes[key] = (report.outcomes[key] ?? 0) + 1;
          }
        }
        await saveCursor(partner.adminId, page.next);
        report.cursor = page.next;
        report.pages += 1;
        report.records += page.records.length;
        report.caughtUp = page.records.length < limit;
      }
    } catch (error) {
      report.error = error instanceof Error ? error.message : String(error);
      await saveError(partner.adminId, report.error);
    }
    logReport(deps.log, report);
    return report;
  }

  async function loadCursor(partner: string): Promise<string | null> {
    const [row] = await deps.store.query<{ cursor: string | null }>(
      'SELECT cursor FROM partner_feed WHERE partner = $1',
      [partner],
    );
    return row?.cursor ?? null;
  }

  async function saveCursor(partner: string, cursor: string): Promise<void> {
    await deps.store.query(
      `INSERT INTO partner_feed (partner, cursor, pulled_at, last_error) VALUES ($1, $2, $3, NULL)
       ON CONFLICT (partner) DO UPDATE SET cursor = EXCLUDED.cursor, pulled_at = EXCLUDED.pulled_at,
         last_error = NULL`,
      [partner, cursor, deps.clock().toISOString()],
    );
  }

  async function saveError(partner: string, message: string): Promise<void> {
    try {
      await deps.store.query(
        `INSERT INTO partner_feed (partner, last_error) VALUES ($1, $2)
         ON CONFLICT (partner) DO UPDATE SET last_error = EXCLUDED.last_error`,
        [partner, message],
      );
    } catch (error) {
      // The store itself may be what failed; the log still says what happened.
      deps.log.warn({ partner, err: error }, 'could not record the pull error');
    }
  }

  return { pull };
}

/** A partner's answer is untrusted: its shape is checked before any of it is used. */
function feedPageOf(body: unknown, limit: number): { records: string[]; next: string } {
  const page = body as { records?: unknown; next?: unknown } | null;
  if (typeof page !== 'object' || page === null) throw new Error('feed page is not a JSON object');
  const { records, next } = page;
  if (!Array.isArray(records) || !records.every((r) => typeof r === 'string')) {
    throw new Error('feed page: records must be an array of strings');
  }
  if (records.length > limit)
    throw new Error(`feed page holds ${records.length} records, ${limit} were asked`);
  if (typeof next !== 'string' || next.length === 0 || next.length > MAX_CURSOR) {
    throw new Error(`feed page: next must be a cursor of 1 to ${MAX_CURSOR} characters`);
  }
  return { records: records as string[], next };
}

function logReport(log: Logger, report: PullReport): void {
  const rejected = Object.entries(report.outcomes)
    .filter(([k]) => k.startsWith('rejected:'))
    .reduce((n, [, v]) => n + v, 0);
  const fields = {
    partner: report.partner,
    pages: report.pages,
    records: report.records,
    outcomes: report.outcomes,
  };
  if (report.error !== null) log.warn({ ...fields, error: report.error }, 'feed pull failed');
  else if (rejected > 0) log.warn(fields, 'feed pull: partner records rejected');
  else if (report.records > 0) log.info(fields, 'feed pulled');
}
