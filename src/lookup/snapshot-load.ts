/**
 * One load of the read model at start: from its snapshot when PostgreSQL agrees with it (snapshot.ts), else
 * from the evidence (load.ts loadAll), saying why in one log line, with progress lines for a large one.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/types.ts';
import { loadAll } from './load.ts';
import { ReadModel } from './read-model.ts';
import { startFromSnapshot } from './snapshot.ts';

/** The load in progress: where from, how far. */
export interface LoadState {
  source: 'snapshot' | 'database';
  operators: number;
  total: number;
  /** The last attempt's failure, when it is tried again. */
  error?: string;
}

export interface LoadOptions {
  store: Store;
  log: Logger;
  /** false: straight from the evidence. */
  useSnapshot: boolean;
  pageSize: number;
  /** A progress line every this many operators (and every few seconds), when there are as many. */
  progressEvery?: number | undefined;
  /** Aborted when the gateway closes: the load stops after its current page. */
  signal: AbortSignal;
  /** Told where the load is, as it moves on. */
  onState(state: LoadState): void;
}

export async function loadReadModel(o: LoadOptions): Promise<{ model: ReadModel; fromSnapshot: boolean }> {
  const { store, log } = o;
  const started = Date.now();
  if (o.useSnapshot) {
    o.onState({ source: 'snapshot', operators: 0, total: 0 });
    // Anything unexpected on the way (a throw included) is a reason to load from the evidence, never a failed load.
    const from = await startFromSnapshot(store).catch((error: unknown) => ({
      reason: `snapshot not used: ${error instanceof Error ? error.message : String(error)}`,
    }));
    if ('model' in from) {
      const { model } = from;
      log.info(
        {
          operators: model.operatorCount,
          versions: model.versionCount,
          caughtUp: from.caughtUp,
          snapshotWrittenAt: from.head.writtenAt.toISOString(),
          ms: Date.now() - started,
          ...from.timings,
        },
        'lookup read model loaded from its snapshot',
      );
      return { model, fromSnapshot: true };
    }
    log.info({ reason: from.reason }, `lookup read model loaded from the database: ${from.reason}`);
  }
  const [row] = await store.query<{ n: string }>('SELECT count(*)::text AS n FROM operator_state');
  const total = Number(row?.n ?? 0);
  const state: LoadState = { source: 'database', operators: 0, total };
  o.onState(state);
  const model = new ReadModel();
  const progress = loadProgress(log, total, o.progressEvery ?? PROGRESS_OPERATORS);
  const onPage = (operators: number) => {
    state.operators = operators;
    progress?.(operators);
  };
  await loadAll(store, model, o.pageSize, onPage, o.signal);
  log.info(
    { operators: model.operatorCount, versions: model.versionCount, ms: Date.now() - started },
    'lookup read model loaded',
  );
  return { model, fromSnapshot: false };
}

/**
 * A progress line every PROGRESS_OPERATORS operators or PROGRESS_MS, when the model is large enough to take a
 * while.
 */
const PROGRESS_OPERATORS = 100_000;
const PROGRESS_MS = 5_000;

function loadProgress(log: Logger, total: number, every: number): ((operators: number) => void) | undefined {
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
