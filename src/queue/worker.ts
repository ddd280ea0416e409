/**
 * The consumer side of one partner's delivery queue. One job at a time (concurrency 1), so that a partner's
 * batches go out in outbox order. The handler says what became of an attempt; this module turns that into
 * BullMQ's terms: a retry after the delay the handler chose (custom backoff), or a failure that is never
 * retried (UnrecoverableError). A job whose data is corrupt is dead-lettered and the worker goes on with the
 * rest (THREATS.md 67).
 */
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type DeliveryJob, deliveryQueueName, parseDeliveryJob } from './jobs.ts';
import { messageOf, withTimeout } from './timeout.ts';

export type JobVerdict =
  | { kind: 'done' }
  /** Try again after `delayMs` (backoff with jitter, or the partner's Retry-After). */
  | { kind: 'retry'; delayMs: number; reason: string }
  /** Do not try again: the rows are dead letters already. */
  | { kind: 'give-up'; reason: string };

export type DeliveryHandler = (job: DeliveryJob, meta: { jobId: string }) => Promise<JobVerdict>;

/** Failed dead-lettered jobs kept in Redis for inspection; delivery's own dead letters are in PostgreSQL. */
const DEAD_LETTERS_KEPT = 1_000;

/** Carries the delay the handler chose to the backoff strategy, which BullMQ calls with the thrown error. */
class RetryLater extends Error {
  readonly delayMs: number;
  constructor(reason: string, delayMs: number) {
    super(reason);
    this.name = 'RetryLater';
    this.delayMs = delayMs;
  }
}

export interface DeliveryWorker {
  /** Waits up to `graceMs` for the job in hand to finish. */
  close(graceMs: number): Promise<void>;
}

export interface WorkerOptions {
  redis: Redis;
  prefix: string;
  partner: string;
  handle: DeliveryHandler;
  /** Delay before retrying a job that failed unexpectedly (store down, a bug), by attempts made. */
  fallbackDelayMs: (attemptsMade: number) => number;
  /** Called after a job finished either way, so the relay can move the partner's next batch at once. */
  onSettled: () => void;
  log: Logger;
}

export function startDeliveryWorker(options: WorkerOptions): DeliveryWorker {
  const { partner, log } = options;
  const queue = deliveryQueueName(partner);

  const processor = async (job: Job): Promise<void> => {
    const parsed = parseDeliveryJob(job.data, partner, job.id);
    if (!parsed.ok) {
      log.error(
        { alert: 'job-corrupt', queue, jobId: job.id, reason: parsed.reason },
        'corrupt job dead-lettered',
      );
      throw new UnrecoverableError(`corrupt job data: ${parsed.reason}`);
    }
    const verdict = await options.handle(parsed.value, { jobId: job.id! });
    switch (verdict.kind) {
      case 'done':
        return;
      case 'retry':
        throw new RetryLater(verdict.reason, verdict.delayMs);
      case 'give-up':
        throw new UnrecoverableError(verdict.reason);
    }
  };

  const worker = new Worker(queue, processor, {
    connection: options.redis,
    prefix: options.prefix,
    concurrency: 1,
    removeOnFail: { count: DEAD_LETTERS_KEPT },
    removeOnComplete: { count: 0 },
    settings: {
      backoffStrategy: (attemptsMade, _type, error) =>
        error instanceof RetryLater ? error.delayMs : options.fallbackDelayMs(attemptsMade),
    },
  });
  worker.on('error', (error) => log.warn({ queue, err: messageOf(error) }, 'delivery worker error'));
  worker.on('failed', (job, error) => {
    // Retries and give-ups were logged by the handler; what is left is unexpected (store down, a bug).
    if (!(error instanceof RetryLater) && !(error instanceof UnrecoverableError)) {
      log.warn({ queue, jobId: job?.id, err: messageOf(error) }, 'delivery job failed');
    }
  });
  worker.on('completed', () => options.onSettled());
  worker.on('failed', () => options.onSettled());
  return {
    // The job in hand finishes first, so no batch is left half done (THREATS.md 65). Its partner request is
    // bounded, so the grace normally suffices; past it the gateway stops waiting, and a job left active is
    // picked up again as stalled, its rows still open in PostgreSQL.
    async close(graceMs) {
      try {
        await withTimeout(worker.close(), graceMs, `close worker of ${queue}`);
      } catch (error) {
        log.warn({ queue, err: messageOf(error) }, 'delivery worker did not close in time');
      }
    },
  };
}
