/**
 * The consumer side of one queue of a kind of job. The handler says what became of an attempt; this module
 * turns that into BullMQ's terms: a retry after the delay the handler chose (custom backoff), or a failure that
 * is never retried (UnrecoverableError). A job whose data is corrupt is dead-lettered and the worker goes on
 * with the rest (docs/threats.md 67).
 */
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type JobHandler, type JobKind, RetryLater } from './job-kind.ts';
import type { RetryPolicy } from './retry.ts';
import { messageOf, withTimeout } from './timeout.ts';

/** Failed dead-lettered jobs kept in Redis for inspection; the flows' own dead letters are in PostgreSQL. */
const DEAD_LETTERS_KEPT = 1_000;

export interface QueueWorker {
  /** Waits up to `graceMs` for the jobs in hand to finish; closing twice waits on the first close. */
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

export function startWorker<T>(spec: WorkerSpec<T>, options: { redis: Redis; prefix: string }): QueueWorker {
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

  // BullMQ runs its blocking commands on a duplicate of `redis` of its own; the rest share `redis`.
  const worker = new Worker(queue, processor, {
    connection: options.redis,
    prefix: options.prefix,
    concurrency: spec.concurrency,
    removeOnFail: { count: DEAD_LETTERS_KEPT },
    removeOnComplete: { count: 0 },
    settings: {
      backoffStrategy: (attemptsMade, _type, error) =>
        error instanceof RetryLater ? error.delayMs : spec.retry.fallbackDelayMs(attemptsMade),
    },
  });
  worker.on('error', (error) => log.warn({ queue, err: messageOf(error) }, `${kind.label} worker error`));
  worker.on('failed', (job, error) => {
    // Retries and give-ups were logged by the handler; what is left is unexpected (store down, a bug).
    if (!(error instanceof RetryLater) && !(error instanceof UnrecoverableError)) {
      log.warn({ queue, jobId: job?.id, err: messageOf(error) }, `${kind.label} job failed`);
    }
  });
  worker.on('completed', () => spec.onSettled());
  worker.on('failed', () => spec.onSettled());
  let closing: Promise<void> | undefined;
  return {
    // The job in hand finishes first, so no batch is left half done (docs/threats.md 65). Its request is
    // bounded, so the grace normally suffices; past it the gateway stops waiting, and a job left active is
    // picked up again as stalled, its rows still open in PostgreSQL.
    close(graceMs) {
      closing ??= withTimeout(worker.close(), graceMs, `close worker of ${queue}`).catch((error: unknown) => {
        log.warn({ queue, err: messageOf(error) }, `${kind.label} worker did not close in time`);
      });
      return closing;
    },
  };
}
