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
import { feedPageOf, pullPositions } from '../partner-client/pull-position.ts';
import type { Store } from '../store/types.ts';
import type { InboundService } from './receive.ts';

/** Pages per run: a long backlog is taken in several runs rather than one unbounded loop. */
export const MAX_PULL_PAGES = 100;
/** The feed's own bound (docs/protocol.md leaves it open; this gateway serves at most 1,000). */
const MAX_FEED_LIMIT = 1000;

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
  const positions = pullPositions(deps.store, 'partner_feed', deps);

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
      report.cursor = await positions.load(partner.adminId);
      while (report.pages < MAX_PULL_PAGES && !report.caughtUp) {
        const query = new URLSearchParams({ limit: String(limit) });
        if (report.cursor !== null) query.set('after', report.cursor);
        const got = await deps.fetcher.get(partner, `/feed?${query}`);
        if (!got.ok) throw new Error(`feed: ${got.reason}`);
        const { items: records, next } = feedPageOf(got.body, 'records', limit);
        if (records.length > 0) {
          const { receipt } = await deps.inbound.receive({ records, tlsPeer: partner.adminId });
          for (const r of receipt.results) {
            const key = r.outcome === 'rejected' ? `rejected:${r.code}` : r.outcome;
            report.outcomes[key] = (report.outcomes[key] ?? 0) + 1;
          }
        }
        await positions.save(partner.adminId, next);
        report.cursor = next;
        report.pages += 1;
        report.records += records.length;
        report.caughtUp = records.length < limit;
      }
    } catch (error) {
      report.error = error instanceof Error ? error.message : String(error);
      await positions.saveError(partner.adminId, report.error);
    }
    logReport(deps.log, report);
    return report;
  }

  return { pull };
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
