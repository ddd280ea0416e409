/**
 * The relay of a transactional outbox, for every flow that has one (deliveries, notifications): committed rows
 * → jobs. PostgreSQL stays the source of truth; a job only names rows that carry its deterministic id.
 *
 * Per key of the flow (a partner; the one notifications key), under the flow's advisory lock and in one
 * transaction: rows marked with a job Redis no longer holds (a restart without persistence, docs/threats.md 54)
 * are released, then the next rows are claimed (marked with their job's id, selected with SKIP LOCKED, so
 * replicas never enqueue a row twice). The jobs are added after the commit: a job added before could run
 * first, find no rows with its id, and finish having sent nothing. Which rows may be claimed (the flow's
 * ordering rule) is the flow's. With Redis down the rows wait in PostgreSQL.
 */
import type { Logger } from 'pino';
import { createPassRunner, type PassRunner } from './pass-runner.ts';
import type { JobPresence, JobProducer } from './queue/producer.ts';
import { messageOf } from './queue/timeout.ts';
import type { Sql, Store } from './store/types.ts';

/** The job of claimed rows still open, and whether it was claimed within the claim grace. */
export interface MarkedJob {
  jobId: string;
  recent: boolean;
}

export interface OutboxFlow<T> {
  /** Names the outbox in logs. */
  readonly label: string;
  /**
   * True where a key has one job in flight at a time: an open job (or one claimed just now, its job not added
   * yet) holds back the key's next claim.
   */
  readonly oneInFlight: boolean;
  /** Keys to relay now, in order; an idle gateway costs one indexed query a tick, not a transaction. */
  due(): Promise<readonly string[]>;
  /** Takes the key's advisory lock for `tx`; false while another replica relays it. */
  lock(tx: Sql, key: string): Promise<boolean>;
  /**
   * Jobs of claimed rows still open, to check against Redis. Sent with the lock, in the same round trip: its
   * answer is not used when the lock is refused (the replica holding it looks for itself).
   */
  marked(tx: Sql, key: string): Promise<readonly MarkedJob[]>;
  /** Marks the next rows the flow's ordering rule allows with their job ids; returns those jobs. */
  claim(tx: Sql, key: string): Promise<readonly T[]>;
  /** Unmarks the open rows of these jobs, for the next pass to claim again. */
  release(db: Sql, key: string, jobIds: readonly string[]): Promise<void>;
}

/** Keys relayed at once at most, each holding one store connection for its claim. */
export const KEYS_AT_ONCE = 4;

/**
 * A claim younger than this whose job is not in Redis is taken as being added right now, not as lost: the
 * claiming relay may still be inside its bounded add.
 */
export function claimGraceMs(commandTimeoutMs: number): number {
  return 2 * commandTimeoutMs + 1_000;
}

export interface OutboxRelay {
  /**
   * Asks for a pass soon: over every due key, or over `key` alone (its job settled, so its next rows may go).
   * Passes of one key never overlap, and wakes during one are folded into the next; keys are relayed side by
   * side, so one key's pass never waits behind another's. Where a key has one job in flight at a time, a wake
   * over every key leaves out a key whose job this relay saw open and has not heard settle: its pass could
   * only find that job open. Its wake for `key` and the timer's passes still look at it, except a wake saying
   * which job settled (`settledJob`) while the relay knows of a later job of the key, whose own wake will come.
   */
  wake(key?: string, settledJob?: string): void;
  /**
   * A wake over every key, told which keys have rows (a commit just wrote them) instead of asking the outbox:
   * each of them not in flight is relayed.
   */
  wakeKeys(keys: Iterable<string>): void;
  start(intervalMs: number): void;
  stop(): Promise<void>;
}

/** How fast a key's jobs may be added (delivery/pace.ts). */
export interface Pace {
  /** Milliseconds until `key` may have its next job; 0 when it may now. */
  waitMs(key: string): number;
  /** `key` had `jobs` jobs added now. */
  took(key: string, jobs: number): void;
}

export interface OutboxRelayDeps<T> {
  flow: OutboxFlow<T>;
  store: Store;
  producer: JobProducer<T>;
  /** The job id of a job, as the producer adds it. */
  jobIdOf: (job: T) => string;
  /** False while Redis is unreachable or refused: the pass is skipped rather than failing call by call. */
  usable: () => boolean;
  log: Logger;
  /**
   * How fast a key's jobs may be added (delivery/pace.ts): a key whose pace says wait is not claimed; it is woken
   * once it may go. None: as fast as the flow allows.
   */
  pace?: Pace;
}

export function createOutboxRelay<T>(deps: OutboxRelayDeps<T>): OutboxRelay {
  const { flow, store, producer, log } = deps;
  // The last failure per key, so an outage is logged when it starts and when it ends, not every tick.
  const failing = new Map<string, string>();

  // Keys of a one-in-flight flow whose job was open at this relay's last look (added by it, or found open), with
  // that job: wakes over every key pass them by until the key's own wake says the job settled, or a timer's pass
  // finds it gone. Only a hint that saves passes: a pass that runs decides everything from the outbox and Redis.
  const inFlight = new Map<string, string>();

  async function claim(tx: Sql, key: string): Promise<readonly T[]> {
    // The key's rows marked as enqueued are read with the lock, in the same round trip (PostgreSQL runs the read
    // once the lock is answered); without the lock they are not looked at.
    const [locked, marked] = await Promise.all([flow.lock(tx, key), flow.marked(tx, key)]);
    if (!locked) return [];
    for (const { jobId, recent } of marked) {
      const presence: JobPresence = await producer.presence(key, jobId);
      // In flight; or just claimed (by another replica) and its job not added yet.
      if (presence === 'open' || (presence === 'missing' && recent)) {
        if (flow.oneInFlight) {
          inFlight.set(key, jobId);
          return [];
        }
        continue;
      }
      // Completed or failed with rows still open, or gone with Redis: the rows go out again. Removing a
      // finished job frees its id, which the same rows would be enqueued under.
      if (presence === 'finished') await producer.remove(key, jobId);
      await flow.release(tx, key, [jobId]);
      log.warn(
        { outbox: flow.label, key, jobId, presence },
        'outbox rows whose job is no longer in Redis are enqueued again',
      );
    }
    return flow.claim(tx, key);
  }

  // Keys held back by their pace, with the timer that wakes each once it may go.
  const paced = new Map<string, NodeJS.Timeout>();
  function holdBack(key: string, waitMs: number): void {
    if (paced.has(key)) return;
    const timer = setTimeout(() => {
      paced.delete(key);
      if (!runner.stopped) keyRunner(key).wake();
    }, waitMs);
    timer.unref();
    paced.set(key, timer);
  }

  async function relayKey(key: string): Promise<void> {
    inFlight.delete(key);
    const waitMs = deps.pace?.waitMs(key) ?? 0;
    if (waitMs > 0) return holdBack(key, waitMs);
    const jobs = await store.transaction((tx) => claim(tx, key));
    if (jobs.length > 0) deps.pace?.took(key, jobs.length);
    // Before the add: the job may run and settle before the add's answer is read here.
    if (flow.oneInFlight && jobs.length > 0) inFlight.set(key, deps.jobIdOf(jobs.at(-1)!));
    for (const [i, job] of jobs.entries()) {
      try {
        await producer.add(job);
      } catch (error) {
        // Not in Redis (or not known to be): the rows are unmarked for the next pass. Should a job exist after
        // all, it finds its rows settled or sends them once more, which the receiver recognises (the same
        // bytes, the same webhook-id); the next pass enqueues the same id again. Left marked when this fails,
        // the rows are recovered once the claim grace has passed.
        await flow.release(store, key, jobs.slice(i).map(deps.jobIdOf)).catch(() => {});
        inFlight.delete(key);
        throw error;
      }
    }
  }

  function noteFailure(key: string, error: unknown): void {
    const message = messageOf(error);
    if (failing.get(key) !== message) {
      log.warn(
        { outbox: flow.label, at: key, err: message },
        'relay pass failed; the outbox keeps the rows, retrying later',
      );
    }
    failing.set(key, message);
  }

  // One runner per key: a key's passes never overlap (its claim reads what its last claim wrote), while the
  // keys go side by side, at most KEYS_AT_ONCE claiming at a time.
  const keyRunners = new Map<string, PassRunner>();
  let claiming = 0;
  const turns: (() => void)[] = [];
  async function relayKeyInTurn(key: string): Promise<void> {
    // A slot is handed from the key that ends to the one that waited, so no newcomer slips in between.
    if (claiming >= KEYS_AT_ONCE) await new Promise<void>((resolve) => turns.push(resolve));
    else claiming++;
    try {
      if (runner.stopped || !deps.usable()) return;
      await relayKey(key);
      if (failing.delete(key)) log.info({ outbox: flow.label, at: key }, 'relay working again');
    } catch (error) {
      noteFailure(key, error);
    } finally {
      const next = turns.shift();
      if (next === undefined) claiming--;
      else next();
    }
  }
  function keyRunner(key: string): PassRunner {
    let r = keyRunners.get(key);
    if (r === undefined) {
      r = createPassRunner(() => relayKeyInTurn(key));
      keyRunners.set(key, r);
    }
    return r;
  }

  // A pass the timer asked for looks at every due key, in flight or not.
  async function pass(timed: boolean): Promise<void> {
    if (!deps.usable()) return;
    let keys: readonly string[];
    try {
      keys = await flow.due();
    } catch (error) {
      noteFailure('outbox', error);
      return;
    }
    failing.delete('outbox');
    if (runner.stopped) return;
    const runners = (timed ? keys : keys.filter((k) => !inFlight.has(k))).map(keyRunner);
    for (const r of runners) r.wake();
    await Promise.all(runners.map((r) => r.settled()));
  }

  const runner = createPassRunner(pass);
  return {
    wake(key, settledJob) {
      if (key === undefined) return runner.wake();
      if (runner.stopped) return;
      const open = inFlight.get(key);
      if (settledJob !== undefined && open !== undefined && open !== settledJob) return;
      inFlight.delete(key);
      keyRunner(key).wake();
    },
    wakeKeys(keys) {
      if (runner.stopped || !deps.usable()) return;
      for (const key of keys) if (!inFlight.has(key)) keyRunner(key).wake();
    },
    start: (intervalMs) => runner.start(intervalMs),
    async stop() {
      for (const timer of paced.values()) clearTimeout(timer);
      paced.clear();
      await runner.stop();
      await Promise.all([...keyRunners.values()].map((r) => r.stop()));
    },
  };
}
