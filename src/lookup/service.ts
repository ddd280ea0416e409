/**
 * The lookup flow: the read model, started from its snapshot (snapshot.ts) or rebuilt from PostgreSQL, and kept
 * current by change events, and the answers built on it. The load runs behind the listeners: until it is done
 * lookups are refused with 503 NOT_READY (never a wrong "not recognised") and the API listener's readiness says
 * so. The load is retried until it succeeds, and caught up before the first answer (load-loop.ts): what was
 * received since it began is read again and the batches that waited meanwhile are applied. A commit on this
 * replica is applied at once, in-process; it is also published on Redis, so every other replica applies it too.
 * PostgreSQL stays the source of truth: on every (re)subscription, after the load, and on a timer in case a
 * publish was lost, versions received since the synchronisation mark are reloaded (applying is idempotent), so a
 * missed event costs delay, never correctness. An orderly close writes the snapshot the next start reads.
 */
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.ts';
import { GatewayError } from '../errors.ts';
import type { InboundChange, OperatorChange } from '../inbound/change.ts';
import { type ChangeChannel, openChangeChannel } from '../queue/change-channel.ts';
import type { Store } from '../store/types.ts';
import { type Answerer, createAnswerer } from './answer.ts';
import { parseChange } from './change-message.ts';
import { loadSince, PAGE_SIZE } from './load.ts';
import { catchUp, RELOAD_MARGIN_MS, untilLoaded, WaitingChanges } from './load-loop.ts';
import { LOOKUP_FLUSH_INTERVAL_MS, LookupCounts } from './lookup-counts.ts';
import { ReadModel } from './read-model.ts';
import { saveSnapshot } from './snapshot.ts';
import { type LoadState, loadReadModel } from './snapshot-load.ts';
import type { WriteOutcome } from './snapshot-store.ts';

export const RESYNC_INTERVAL_MS = 15_000;

export type { LoadState };

export interface LookupService extends Answerer {
  /** The read model answers are made from; empty until loaded. */
  readonly model: ReadModel;
  /** The load in progress; undefined once the model is loaded. */
  readonly loading: LoadState | undefined;
  /** Resolves once the model is loaded and caught up; rejects if the service closed first. */
  readonly loaded: Promise<void>;
  /** For inbound: a committed batch. */
  committed(change: InboundChange): void;
  /** Answers counted per partner, day and outcome, flushed to lookup_daily on a timer and at close. */
  readonly counts: LookupCounts;
  /** Reloads from PostgreSQL what was received since the mark; resolves when applied. */
  resync(): Promise<void>;
  /** Writes a snapshot of the model now, as close does; 'not-loaded' before the load. */
  snapshot(): Promise<WriteOutcome | 'not-loaded'>;
  /**
   * At the start of a stop, before the gateway waits for work in progress (a summaries pass or a retention run
   * over every operator takes seconds at a million): writes the snapshot as close would, so that a stop its
   * supervisor cuts short after a grace period still leaves it. Close then writes only what is newer.
   */
  snapshotBeforeClose(): Promise<void>;
  /** Closes, and writes the snapshot unless `snapshot` is false. */
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
  /** false: neither start from the snapshot nor write one at close (default true). */
  snapshot?: boolean;
  /** First delay before the load is tried again after a failure (default 1 s, doubling to a minute). */
  loadRetryMs?: number;
  /** The longest delay between two attempts at the load (default MAX_RETRY_MS, a minute). */
  loadRetryMaxMs?: number;
  /** Operator changes waiting in memory during the load (default MAX_WAITING_CHANGES). */
  maxWaitingChanges?: number;
}

export async function startLookup(options: LookupOptions): Promise<LookupService> {
  const { store, log } = options;
  const useSnapshot = options.snapshot !== false;
  const counts = new LookupCounts(options.config.partners.map((p) => p.adminId));
  let model = new ReadModel();
  let answerer: Answerer | undefined;
  let state: LoadState | undefined = {
    source: useSnapshot ? 'snapshot' : 'database',
    operators: 0,
    total: 0,
  };
  // Whether the held snapshot was not used: the next one replaces it whatever it holds.
  let replaceSnapshot = !useSnapshot;
  const closing = new AbortController();
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
  let loadedResolve: () => void = () => {};
  let loadedReject: (error: Error) => void = () => {};
  const loaded = new Promise<void>((resolve, reject) => {
    loadedResolve = resolve;
    loadedReject = reject;
  });
  loaded.catch(() => {});

  const waiting = new WaitingChanges(options.maxWaitingChanges);
  const apply = (change: InboundChange) => {
    if (change.sender !== null) model.sawPartner(change.sender, change.receivedAt);
    for (const c of change.changes) applyOne(model, c, change.receivedAt);
  };

  const loadOnce = async () => {
    const started = Date.now();
    const loadedNow = await loadReadModel({
      store,
      log,
      useSnapshot,
      pageSize: options.pageSize ?? PAGE_SIZE,
      progressEvery: options.progressEvery,
      signal: closing.signal,
      onState: (next) => {
        state = next;
      },
    });
    if (!loadedNow.fromSnapshot) replaceSnapshot = true;
    // Caught up before it answers: what this replica acknowledged and others committed during the load.
    model = loadedNow.model;
    await catchUp(store, model, started, waiting, apply, (caughtUp) => {
      mark = caughtUp;
      answerer = createAnswerer(model, options.config.partners, counts);
      state = undefined;
      loadedResolve();
    });
  };

  const load = async () => {
    const done = await untilLoaded(loadOnce, {
      log,
      signal: closing.signal,
      firstDelayMs: options.loadRetryMs ?? 1_000,
      maxDelayMs: options.loadRetryMaxMs,
      onError: (err) => {
        if (state !== undefined) state = { ...state, error: err };
      },
    });
    if (!done) loadedReject(new GatewayError('NOT_READY', 'the lookup read model was not loaded'));
  };

  const resync = () =>
    serial(async () => {
      const from = Date.now();
      await loadSince(store, model, mark - RELOAD_MARGIN_MS);
      mark = from;
    });

  // During the load changes wait in memory (bounded); once it answers, events wait behind any reload.
  const applyLater = (change: InboundChange) => {
    if (answerer === undefined) waiting.push(change);
    else void serial(() => apply(change));
  };

  void serial(load);

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
        applyLater(change);
      },
      onSubscribed: () => void resync(),
    });
  }
  const timer = setInterval(() => void resync(), options.resyncIntervalMs ?? RESYNC_INTERVAL_MS);
  timer.unref();
  const flushCounts = () =>
    counts.flush(store).catch((error: unknown) => {
      log.warn({ err: error instanceof Error ? error.message : String(error) }, 'lookup counts not flushed');
    });
  const countsTimer = setInterval(
    () => void flushCounts(),
    options.countsFlushIntervalMs ?? LOOKUP_FLUSH_INTERVAL_MS,
  );
  countsTimer.unref();

  /** The answerer, or NOT_READY while loading: a border system retries rather than reads "not recognised". */
  const ready = (): Answerer => {
    if (answerer !== undefined) return answerer;
    const progress = state === undefined ? '' : ` (${state.operators} of ${state.total} operators)`;
    throw new GatewayError('NOT_READY', `the lookup read model is loading${progress}`, {
      retryAfterSeconds: 1,
    });
  };

  const snapshot = async (): Promise<WriteOutcome | 'not-loaded'> => {
    if (answerer === undefined) return 'not-loaded';
    let outcome: WriteOutcome | 'not-loaded' = 'not-loaded';
    // After a reload, so that the mark is recent; inside the chain, so that no event lands half-way.
    await resync();
    await serial(async () => {
      const started = Date.now();
      try {
        const saved = await saveSnapshot(store, model, mark - RELOAD_MARGIN_MS, replaceSnapshot);
        outcome = saved.outcome;
        if (saved.outcome === 'written') replaceSnapshot = false;
        log.info(
          { outcome, bytes: saved.bytes, versions: model.versionCount, ms: Date.now() - started },
          'lookup read model snapshot',
        );
      } catch (error) {
        // The previous snapshot stays; the next start checks whichever it finds.
        log.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'lookup read model snapshot not written',
        );
      }
    });
    return outcome;
  };

  return {
    get model() {
      return model;
    },
    get loading() {
      return state;
    },
    loaded,
    counts,
    answer: (query, at) => ready().answer(query, at),
    answerJson: (query, at) => ready().answerJson(query, at),
    batchJson: (queries, at, form) => ready().batchJson(queries, at, form),
    committed(change) {
      if (answerer === undefined) applyLater(change);
      else {
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
      }
      if (change.changes.length > 0 || change.sender !== null) channel?.publish(JSON.stringify(change));
    },
    resync,
    snapshot,
    async snapshotBeforeClose() {
      if (!useSnapshot) return;
      await snapshot().catch((error: unknown) =>
        log.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'lookup read model snapshot not written',
        ),
      );
    },
    async close() {
      closing.abort();
      clearInterval(timer);
      clearInterval(countsTimer);
      await channel?.close();
      await chain;
      await flushCounts();
      if (useSnapshot) await snapshot();
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
