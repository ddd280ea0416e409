/**
 * The consumer side of one queue of a kind of job. The handler says what became of an attempt; this module
 * turns that into BullMQ's terms: a retry after the delay the handler chose (custom backoff), or a failure that
 * is never retried (UnrecoverableError). A job whose data is corrupt is dead-lettered and the worker goes on
 * with the rest (docs/threats.md 67).
 *
 * A worker has two connections of its own: the one it is given (locks, stalled checks, job moves) and the
 * blocking one BullMQ duplicates from it. Its close ends both, so that once the close resolves nothing of the
 * worker reaches Redis again. The close first lets the job in hand finish (docs/threats.md 65), for up to its
 * grace; past it the worker is closed by force: BullMQ's forced close stops its lock renewal and stalled checks,
 * drops its blocking connection and marks its own closed, so the job, when its handler returns, is neither
 * completed nor failed in Redis (unmarked, BullMQ would retry that move on the ended connection with no pause
 * while closing, and hold the event loop for good); then its connection is ended after a QUIT, which Redis
 * answers once every command sent before it has run. The interrupted job stays active in Redis, its rows open
 * in PostgreSQL; its lock, no longer renewed, expires, and a worker's stalled check (this gateway's next start,
 * or a replica's) moves it back to waiting and runs it again. BullMQ fails a job that stalls more than once
 * (maxStalledCount 1); the relay then finds its rows still open and enqueues them again (outbox-relay.ts).
 */
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { closeRedis } from './connection.ts';
import { type JobHandler, type JobKind, RetryLater } from './job-kind.ts';
import type { RetryPolicy } from './retry.ts';
import { messageOf } from './timeout.ts';

/** Failed dead-lettered jobs kept in Redis for inspection; the flows' own dead letters are in PostgreSQL. */
const DEAD_LETTERS_KEPT = 1_000;

export interface QueueWorker {
  /**
   * Waits up to `graceMs` for the jobs in hand to finish, then closes by force; either way its connections are
   * ended when it resolves. Closing twice waits on the first close.
   */
  close(graceMs: number): Promise<void>;
}

export interface WorkerSpec<T> {
  kind: JobKind<T>;
  /** Which of the kind's queues: the partner's for deliveries. */
  key: string;
  handle: JobHandler<T>;
  retry: RetryPolicy;
  /** 1 where the queue's order is the delivery order (a partner's batches). */
  concurrency: number;
  /** Called after a job finished either way, so the relay can move the next one at once. */
  onSettled: () => void;
  /** The flow's logger: corrupt jobs and unexpected failures are reported as the flow's. */
  log: Logger;
}

export interface WorkerOptions {
  /** This worker's own connection (connection.ts, role `worker`); its close ends it. */
  redis: Redis;
  prefix: string;
  /** Bound on the QUIT that ends the connection. */
  commandTimeoutMs: number;
  /**
   * How long a job's lock lasts unless renewed, and how often active jobs are checked for a lost lock:
   * BullMQ's 30 s each unless given.
   */
  stalled?: { lockDurationMs: number; checkIntervalMs: number };
}

export function startWorker<T>(spec: WorkerSpec<T>, options: WorkerOptions): QueueWorker {
  const { kind, key, log } = spec;
  const queue = kind.queueName(key);

  const processor = async (job: Job): Promise<void> => {
    const parsed = kind.parse(job.data, key, job.id);
    if (!parsed.ok) {
      log.error(
        { alert: 'job-corrupt', queue, jobId: job.id, reason: parsed.reason },
        'corrupt job dead-lettered',
      );
      throw new UnrecoverableError(`corrupt job data: ${parsed.reason}`);
    }
    const verdict = await spec.handle(parsed.value, { jobId: job.id! });
    switch (verdict.kind) {
      case 'done':
        return;
      case 'retry':
        throw new RetryLater(verdict.reason, verdict.delayMs);
      case 'give-up':
        throw new UnrecoverableError(verdict.reason);
    }
  };

  const { stalled } = options;
  const worker = new Worker(queue, processor, {
    connection: options.redis,
    prefix: options.prefix,
    concurrency: spec.concurrency,
    removeOnFail: { count: DEAD_LETTERS_KEPT },
    removeOnComplete: { count: 0 },
    ...(stalled && { lockDuration: stalled.lockDurationMs, stalledInterval: stalled.checkIntervalMs }),
    settings: {
      backoffStrategy: (attemptsMade, _type, error) =>
        error instanceof RetryLater ? error.delayMs : spec.retry.fallbackDelayMs(attemptsMade),
    },
  });
  endStalledCheckOnClose(worker);
  let forced = false;
  worker.on('error', (error) => {
    // After a forced close, BullMQ's own close still under way reports the connections it finds ended.
    if (!forced) log.warn({ queue, err: messageOf(error) }, `${kind.label} worker error`);
  });
  worker.on('failed', (job, error) => {
    // Retries and give-ups were logged by the handler; what is left is unexpected (store down, a bug).
    if (!(error instanceof RetryLater) && !(error instanceof UnrecoverableError)) {
      log.warn({ queue, jobId: job?.id, err: messageOf(error) }, `${kind.label} job failed`);
    }
  });
  worker.on('completed', () => spec.onSettled());
  worker.on('failed', () => spec.onSettled());

  async function close(graceMs: number): Promise<void> {
    const graceful = worker.close();
    if (!(await settlesWithin(graceful, graceMs))) {
      log.warn({ queue, graceMs }, `${kind.label} worker did not finish its job in time; closed by force`);
      forced = true;
      // BullMQ hands back the close under way to a second close(); cleared, close(true) runs its forced close.
      worker.closing = undefined;
      await worker.close(true).catch((error: unknown) => {
        log.warn({ queue, err: messageOf(error) }, `${kind.label} worker's forced close failed`);
      });
    }
    await closeRedis(options.redis, options.commandTimeoutMs);
  }
  let closing: Promise<void> | undefined;
  return {
    close(graceMs) {
      closing ??= close(graceMs);
      return closing;
    },
  };
}

/**
 * BullMQ's check for stalled jobs loops: a Redis call, then a wait of its interval (`stalledInterval`, 30 s by
 * default), which close() ends through the wait's stopper. A close that comes during the Redis call finds no
 * wait to end, and the loop then starts one more wait: a timer that holds the process up to the interval after
 * the worker closed. The stopper the loop hands over is therefore called at once once the worker is closing.
 * (BullMQ's own name for it; should it change, this does nothing, and tests/integration/gateway-start-failure
 * finds the timer left.)
 */
function endStalledCheckOnClose(worker: Worker): void {
  let stopper: (() => void) | undefined;
  Object.defineProperty(worker, 'stalledCheckStopper', {
    configurable: true,
    get: () => stopper,
    set(next: (() => void) | undefined) {
      stopper = next;
      if (next !== undefined && worker.closing !== undefined) next();
    },
  });
}

/** True when `work` settles (either way) within `ms`. */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = work.then(
    () => true,
    () => true,
  );
  try {
    return await Promise.race([settled, expired]);
  } finally {
    clearTimeout(timer);
  }
}
