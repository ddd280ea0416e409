/**
 * The lookup flow: the read model, rebuilt from PostgreSQL at start and kept current by change events, and
 * the answers built on it. A commit on this replica is applied at once, in-process; it is also published on
 * Redis, so every other replica applies it too. PostgreSQL stays the source of truth: on every
 * (re)subscription, and on a timer in case a publish was lost, versions received since the synchronisation
 * mark are reloaded (applying is idempotent), so a missed event costs delay, never correctness.
 */
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.ts';
import type { InboundChange, OperatorChange } from '../inbound/change.ts';
import { type ChangeChannel, openChangeChannel } from '../queue/change-channel.ts';
import type { Store } from '../store/types.ts';
import { type Answerer, createAnswerer } from './answer.ts';
import { parseChange } from './change-message.ts';
import { loadAll, loadSince, PAGE_SIZE } from './load.ts';
import { LOOKUP_FLUSH_INTERVAL_MS, LookupCounts } from './lookup-counts.ts';
import { ReadModel } from './read-model.ts';

/**
 * How far behind the mark a reload reaches: receivedAt is taken before the commit, and a batch committed
 * after a later one would otherwise fall before the mark.
 */
export const RELOAD_MARGIN_MS = 30_000;
export const RESYNC_INTERVAL_MS = 15_000;

export interface LookupService extends Answerer {
  readonly model: ReadModel;
  /** For inbound: a committed batch. */
  committed(change: InboundChange): void;
  /** Answers counted per partner, day and outcome, flushed to lookup_daily on a timer and at close. */
  readonly counts: LookupCounts;
  /** Reloads from PostgreSQL what was received since the mark; resolves when applied. */
  resync(): Promise<void>;
  close(): Promise<void>;
}

export interface LookupOptions {
  config: GatewayConfig;
  store: Store;
  log: Logger;
  /** false: no Redis channel (single replica, or a test without Redis). */
  replicate?: boolean;
  resyncIntervalMs?: number;
  /** How often lookup counts are added to lookup_daily (LOOKUP_FLUSH_INTERVAL_MS). */
  countsFlushIntervalMs?: number;
  /** A progress line at start every this many operators (and every few seconds), when there are as many. */
  progressEvery?: number;
  /** Operators read per query at start (load.ts PAGE_SIZE). */
  pageSize?: number;
}

export async function startLookup(options: LookupOptions): Promise<LookupService> {
  const { store, log } = options;
  const model = new ReadModel();
  // Loads and reloads run one at a time, and events wait behind them, so nothing interleaves half-done.
  let chain: Promise<void> = Promise.resolve();
  const serial = (work: () => Promise<void> | void): Promise<void> => {
    chain = chain.then(work).catch((error: unknown) => {
      log.error(
        { err: error instanceof Error ? error.message : String(error) },
        'lookup read model update failed',
      );
    });
    return chain;
  };
  let mark = Date.now();
  const started = Date.now();
  await loadAll(
    store,
    model,
    options.pageSize ?? PAGE_SIZE,
    await loadProgress(store, log, options.progressEvery ?? PROGRESS_OPERATORS),
  );
  log.info(
    { operators: model.operatorCount, versions: model.versionCount, ms: Date.now() - started },
    'lookup read model loaded',
  );

  const resync = () =>
    serial(async () => {
      const from = Date.now();
      await loadSince(store, model, mark - RELOAD_MARGIN_MS);
      mark = from;
    });

  const apply = (change: InboundChange) => {
    if (change.sender !== null) model.sawPartner(change.sender, change.receivedAt);
    for (const c of change.changes) applyOne(model, c, change.receivedAt);
  };

  let channel: ChangeChannel | undefined;
  if (options.replicate !== false) {
    channel = openChangeChannel({
      settings: options.config.redis,
      log,
      onMessage: (message) => {
        const change = parseChange(message);
        if (change === undefined) {
          log.warn('malformed lookup change event; reloading from the database');
          void resync();
          return;
        }
        void serial(() => apply(change));
      },
      onSubscribed: () => void resync(),
    });
  }
  const timer = setInterval(() => void resync(), options.resyncIntervalMs ?? RESYNC_INTERVAL_MS);
  timer.unref();
  const counts = new LookupCounts(options.config.partners.map((p) => p.adminId));
  const flushCounts = () =>
    counts.flush(store).catch((error: unknown) => {
      log.warn({ err: error instanceof Error ? error.message : String(error) }, 'lookup counts not flushed');
    });
  const countsTimer = setInterval(
    () => void flushCounts(),
    options.countsFlushIntervalMs ?? LOOKUP_FLUSH_INTERVAL_MS,
  );
  countsTimer.unref();
  const answerer = createAnswerer(model, options.config.partners, counts);

  return {
    model,
    counts,
    answer: answerer.answer,
    answerJson: answerer.answerJson,
    batchJson: answerer.batchJson,
    committed(change) {
      // Applied before the response leaves, so this replica answers with what it has just acknowledged.
      // The batch is committed: a failure here must not turn its receipt into an error; a reload repairs it.
      try {
        apply(change);
      } catch (error) {
        log.error(
          { err: error instanceof Error ? error.message : String(error) },
          'lookup change not applied',
        );
        void resync();
      }
      if (change.changes.length > 0 || change.sender !== null) channel?.publish(JSON.stringify(change));
    },
    resync,
    async close() {
      clearInterval(timer);
      clearInterval(countsTimer);
      await channel?.close();
      await chain;
      await flushCounts();
    },
  };
}

function applyOne(model: ReadModel, c: OperatorChange, receivedAt: number): void {
  model.apply({ ...c, receivedAt });
  const slot = model.find(c.issuer, c.aeoId);
  // Identifiers follow the highest version only: an older event arriving late must not restore old ones.
  if (slot !== undefined && model.latestVersion(slot) === c.version) {
    model.setIdentifiers(c.issuer, c.aeoId, c.identifiers);
  }
}

/** A progress line every PROGRESS_OPERATORS operators or PROGRESS_MS, when the model is large enough to take a while. */
const PROGRESS_OPERATORS = 100_000;
const PROGRESS_MS = 5_000;

async function loadProgress(
  store: Store,
  log: Logger,
  every: number,
): Promise<((operators: number) => void) | undefined> {
  const [row] = await store.query<{ n: string }>('SELECT count(*)::text AS n FROM operator_state');
  const total = Number(row?.n ?? 0);
  if (total < every) return undefined;
  log.info({ total }, `loading read model: 0/${total}`);
  let lastCount = 0;
  let lastAt = Date.now();
  return (operators) => {
    if (operators - lastCount < every && Date.now() - lastAt < PROGRESS_MS) return;
    lastCount = operators;
    lastAt = Date.now();
    log.info({ loaded: operators, total }, `loading read model: ${operators}/${total}`);
  };
}
