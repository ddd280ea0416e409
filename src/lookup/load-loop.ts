/**
 * The read model's load at start, kept apart from the service that answers: tried until it succeeds (a
 * process that gave up would stay up and refuse lookups for good, and no supervisor restarts a live process),
 * then caught up with what was committed while it ran before a single lookup is answered. Batches received
 * during the load wait in memory, bounded: past the bound the queue is dropped and the catch-up reads them
 * from PostgreSQL instead, which holds every one of them (a batch is announced only once committed).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { InboundChange } from '../inbound/change.ts';
import type { Store } from '../store/types.ts';
import { loadSince } from './load.ts';
import type { ReadModel } from './read-model.ts';

/**
 * How far behind the mark a reload reaches: receivedAt is taken before the commit, and a batch committed
 * after a later one would otherwise fall before the mark.
 */
export const RELOAD_MARGIN_MS = 30_000;
/** Operator changes (and senders) that wait in memory during the load; past it the catch-up reads them. */
export const MAX_WAITING_CHANGES = 20_000;
/** The longest wait between two attempts at the load. */
export const MAX_RETRY_MS = 60_000;
/** Catch-up rounds while the queue keeps overflowing; the periodic reload repairs anything after the last. */
const CATCH_UP_ROUNDS = 3;

/** Changes received during the load, in order, up to MAX_WAITING_CHANGES. */
export class WaitingChanges {
  private changes: InboundChange[] = [];
  private size = 0;
  /** Set when changes were dropped: a catch-up must read them from PostgreSQL. */
  overflowed = false;

  private readonly limit: number;

  constructor(limit = MAX_WAITING_CHANGES) {
    this.limit = limit;
  }

  push(change: InboundChange): void {
    if (this.overflowed) return;
    const size = change.changes.length + 1;
    if (this.size + size > this.limit) {
      this.changes = [];
      this.size = 0;
      this.overflowed = true;
      return;
    }
    this.changes.push(change);
    this.size += size;
  }

  /** The held changes, emptied, with whether any were dropped since the last take. */
  take(): { changes: InboundChange[]; overflowed: boolean } {
    const taken = { changes: this.changes, overflowed: this.overflowed };
    this.changes = [];
    this.size = 0;
    this.overflowed = false;
    return taken;
  }

  get length(): number {
    return this.size;
  }
}

/**
 * Brings a freshly loaded model up to date: what was received since `startedMs` (less the margin), then the
 * changes that waited; then `adopt(mark)` in the same synchronous step, so that no change arrives between the
 * last one applied and the model answering.
 */
export async function catchUp(
  store: Store,
  model: ReadModel,
  startedMs: number,
  waiting: WaitingChanges,
  apply: (change: InboundChange) => void,
  adopt: (mark: number) => void,
): Promise<void> {
  let from = startedMs;
  for (let round = 1; ; round += 1) {
    const roundStarted = Date.now();
    await loadSince(store, model, from - RELOAD_MARGIN_MS);
    const taken = waiting.take();
    for (const change of taken.changes) apply(change);
    // Dropped during this round: read again what it may not have seen, a few times at most.
    if (!taken.overflowed || round >= CATCH_UP_ROUNDS) {
      adopt(taken.overflowed ? from : roundStarted);
      return;
    }
    from = roundStarted;
  }
}

/**
 * Runs `attempt` until it succeeds or `signal` aborts (false then), waiting `firstDelayMs` doubling up to
 * `maxDelayMs` (MAX_RETRY_MS) between attempts; a failure is logged when its cause differs from the last one logged.
 */
export async function untilLoaded(
  attempt: () => Promise<void>,
  o: {
    log: Logger;
    signal: AbortSignal;
    firstDelayMs: number;
    maxDelayMs?: number | undefined;
    onError(message: string): void;
  },
): Promise<boolean> {
  let lastLogged: string | undefined;
  for (let n = 1; !o.signal.aborted; n += 1) {
    try {
      await attempt();
      return true;
    } catch (error) {
      if (o.signal.aborted) break;
      const err = error instanceof Error ? error.message : String(error);
      o.onError(err);
      const delay = Math.min(o.maxDelayMs ?? MAX_RETRY_MS, o.firstDelayMs * 2 ** Math.min(n - 1, 16));
      if (err !== lastLogged) {
        lastLogged = err;
        o.log.error({ err, attempt: n, retryInMs: delay }, 'lookup read model load failed; trying again');
      }
      await sleep(delay, undefined, { signal: o.signal }).catch(() => {});
    }
  }
  return false;
}
