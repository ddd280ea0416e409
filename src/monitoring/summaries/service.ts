/**
 * Monitoring summaries, both ways (docs/protocol.md, "Monitoring summaries"): receiving partners' summaries
 * (pushed, or pulled from their feeds), serving our feed, issuing ours and pushing them. Three timers, each
 * unreferenced, each run counted from the end of the last, stopped by close():
 * - every PUSH_SWEEP_MS, pushing issued summaries that are due (a failed push waits for its backoff);
 * - every `outbound.pullIntervalMs` (0: never; the first run one interval after start), pulling each partner's
 *   summary feed;
 * - with `monitoring.summaries.auto`, at start and every hour, issuing each partner's summary of the previous
 *   calendar month when none exists yet, or a new revision when late figures changed it.
 */
import type { Logger } from 'pino';
import type { GatewayConfig } from '../../config/types.ts';
import type { ChainCache } from '../../crypto/chain-cache.ts';
import { GatewayError } from '../../errors.ts';
import type { Partner } from '../../mra/types.ts';
import { createPartnerFetcher } from '../../partner-client/fetch.ts';
import { every, type ScheduledTask } from '../../pass-runner.ts';
import type { Period } from '../../protocol/monitoring-summary.ts';
import { wasStopped } from '../../store/stoppable.ts';
import type { Store } from '../../store/types.ts';
import { dayAfter, dayStart } from '../period.ts';
import { type SummaryPage, summaryPage } from './feed.ts';
import {
  type ListedSummary,
  listSummaries,
  type PushState,
  pushStateOfSummary,
  type SummaryDirection,
} from './held.ts';
import { type IssuedSummary, issueSummary } from './issue.ts';
import { createSummaryPuller, type SummaryPullReport } from './pull.ts';
import { createSummaryPusher, type PushReport } from './push.ts';
import { createSummaryReceiver, type SummaryReceiver } from './receive.ts';

/** How often issued summaries are looked at for a push that is due. */
export const PUSH_SWEEP_MS = 10_000;
/** How often the previous period's summaries are issued or revised. */
export const AUTO_ISSUE_MS = 3_600_000;
/**
 * How long issuing through the API waits for the push before it answers: a partner that accepts the
 * connection and then says nothing must not hold the caller for the whole exchange bound. The push goes on.
 */
export const ISSUE_PUSH_WAIT_MS = 10_000;

export interface SummaryService {
  receive: SummaryReceiver;
  /** The caller's page of the summaries we issued about its operators. */
  page(partner: string, after: string | undefined, limit: number): Promise<SummaryPage>;
  /** Issues (or finds unchanged) the partner's summary for the period, then pushes it at once. */
  issue(request: {
    partner: string;
    from: string;
    to: string;
    actor?: string;
  }): Promise<IssuedSummary & { push: PushState }>;
  list(query: {
    partner: string | undefined;
    direction: SummaryDirection;
    limit: number;
  }): Promise<ListedSummary[]>;
  pushDue(): Promise<PushReport[]>;
  pull(adminId: string): Promise<SummaryPullReport>;
  pullAll(): Promise<SummaryPullReport[]>;
  /**
   * The previous calendar month's summary of every partner whose MRA was in force in it; `signal` stops the
   * run (a stop of the gateway), the issue under way rolled back.
   */
  autoIssue(signal?: AbortSignal): Promise<IssuedSummary[]>;
  start(): void;
  close(): Promise<void>;
}

export interface SummaryServiceDeps {
  config: GatewayConfig;
  store: Store;
  log: Logger;
  clock: () => Date;
  cache: ChainCache;
  /** Writes the lookups counted in memory before figures are taken (LookupCounts.flush). */
  flushLookups?: (() => Promise<void>) | undefined;
}

export function createSummaryService(deps: SummaryServiceDeps): SummaryService {
  const { config, store } = deps;
  const log = deps.log.child({ component: 'monitoring-summaries' });
  const receive = createSummaryReceiver({ ...deps, log });
  const pusher = createSummaryPusher({ ...deps, log });
  const fetcher = createPartnerFetcher(config);
  const puller = createSummaryPuller({ store, fetcher, receive, log, clock: deps.clock });
  const pulling = new Map<string, Promise<SummaryPullReport>>();
  const timers: ScheduledTask[] = [];
  const issueDeps = {
    store,
    home: config.home.adminId,
    signer: () => {
      const signer = config.home.signers[0];
      if (signer === undefined) throw new GatewayError('INTERNAL', 'no home signer is configured');
      return signer;
    },
    clock: deps.clock,
    flushLookups: deps.flushLookups,
  };

  function partnerOf(adminId: string): Partner {
    const partner = config.partners.find((p) => p.adminId === adminId);
    if (partner === undefined) throw new GatewayError('NOT_FOUND', `no partner ${adminId} is configured`);
    return partner;
  }

  const service: SummaryService = {
    receive,
    page: (partner, after, limit) => summaryPage(store, partner, after, limit),
    async issue(request) {
      const partner = partnerOf(request.partner);
      const issued = await issueSummary(issueDeps, { ...request, partner });
      await within(pusher.push(partner), ISSUE_PUSH_WAIT_MS);
      const push = await pushStateOfSummary(store, issued.summary.summaryId);
      if (push === undefined) throw new GatewayError('INTERNAL', 'the issued summary is not held');
      return { ...issued, push };
    },
    list: (query) => listSummaries(store, query),
    pushDue: () => pusher.pushDue(),
    async pull(adminId) {
      const partner = partnerOf(adminId);
      const inFlight = pulling.get(adminId);
      if (inFlight !== undefined) return inFlight;
      const started = puller.pull(partner).finally(() => pulling.delete(adminId));
      pulling.set(adminId, started);
      return started;
    },
    pullAll: () => Promise.all(config.partners.map((p) => service.pull(p.adminId))),
    async autoIssue(signal) {
      const period = previousMonth(deps.clock());
      const issued: IssuedSummary[] = [];
      for (const partner of config.partners) {
        if (!mraCovers(partner, period)) continue;
        if (signal?.aborted === true) return issued;
        try {
          const one = await issueSummary(issueDeps, { partner, ...period }, signal);
          if (one.created) {
            log.info({ partner: partner.adminId, period, revision: one.summary.revision }, 'summary issued');
          }
          issued.push(one);
        } catch (error) {
          if (wasStopped(error)) {
            log.info(
              { partner: partner.adminId, period },
              'summary issue stopped with the gateway; done at the next start',
            );
            return issued;
          }
          log.error({ err: error, partner: partner.adminId, period }, 'could not issue the summary');
        }
      }
      await pusher.pushDue();
      return issued;
    },
    start() {
      if (timers.length > 0) return;
      timers.push(every(PUSH_SWEEP_MS, PUSH_SWEEP_MS, () => pusher.pushDue(), 'summary-push', log));
      const { pullIntervalMs } = config.outbound;
      if (pullIntervalMs > 0) {
        timers.push(every(pullIntervalMs, pullIntervalMs, service.pullAll, 'summary-pull', log));
      }
      if (config.monitoring.summaries.auto) {
        timers.push(every(0, AUTO_ISSUE_MS, (stopping) => service.autoIssue(stopping), 'summary-issue', log));
      }
    },
    async close() {
      await Promise.all(timers.map((t) => t.stop()));
      timers.length = 0;
      await Promise.allSettled([...pulling.values()]);
      await Promise.all([pusher.close(), fetcher.close()]);
    },
  };
  return service;
}

/** The calendar month before the one `now` is in (UTC). */
export function previousMonth(now: Date): Period {
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 0));
  return { from: from.toISOString().slice(0, 10), to: to.toISOString().slice(0, 10) };
}

/** Whether the partner's MRA was in force on some day of the period, whatever its status now. */
function mraCovers(partner: Partner, period: Period): boolean {
  const { inForceFrom, inForceUntil } = partner.mra;
  if (inForceFrom >= dayAfter(period.to)) return false;
  return inForceUntil === undefined || inForceUntil > dayStart(period.from);
}

/**
 * Waits for `work`, but at most `ms`; `work` goes on either way. Its failure is not the caller's: what the push
 * left is read from the summary's row next, and a push that failed is tried again by the sweep.
 */
async function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  try {
    await Promise.race([
      work.then(
        () => undefined,
        () => undefined,
      ),
      elapsed,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
