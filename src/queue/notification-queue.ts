/**
 * The notifications queue: one BullMQ queue whose jobs each name one notification row. Per-operator order is
 * kept by the relay, which enqueues only the oldest open row of each operator and subscription, so the worker
 * may run several jobs at once. Same rules as the delivery queues: bounded producer calls, the handler's own
 * backoff, corrupt job data dead-lettered and never retried (THREATS.md 53, 60, 67).
 */
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { RedisSettings } from '../config/types.ts';
import { closeRedis, createRedis, waitForReady } from './connection.ts';
import type { JobPresence } from './producer.ts';
import { messageOf, withTimeout } from './timeout.ts';
import type { JobVerdict } from './worker.ts';

export const NOTIFICATION_QUEUE = 'notifications';
const JOB_NAME = 'notify';
const BACKOFF = 'notification';
const DEAD_LETTERS_KEPT = 1_000;

export interface NotificationJob {
  v: 1;
  id: number;
}

export function notificationJobId(id: number): string {
  return `notification-${id}`;
}

export function parseNotificationJob(data: unknown, jobId: string | undefined): NotificationJob | string {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'job data is not an object';
  const d = data as Record<string, unknown>;
  if (Object.keys(d).some((k) => k !== 'v' && k !== 'id')) return 'unknown members';
  if (d.v !== 1) return 'job data version is not 1';
  if (typeof d.id !== 'number' || !Number.isSafeInteger(d.id) || d.id <= 0) return 'id is not a row id';
  if (jobId !== notificationJobId(d.id)) return 'job id does not match its data';
  return { v: 1, id: d.id };
}

class RetryLater extends Error {
  readonly delayMs: number;
  constructor(reason: string, delayMs: number) {
    super(reason);
    this.delayMs = delayMs;
  }
}

export interface NotificationQueue {
  add(id: number): Promise<void>;
  presence(id: number): Promise<JobPresence>;
  remove(id: number): Promise<void>;
  connected(): boolean;
  /** Waits for the first connection, at most `timeoutMs`; false when Redis is not reachable. */
  connect(timeoutMs: number): Promise<boolean>;
  onReady(listener: () => void): void;
  startWorker(options: {
    handle: (job: NotificationJob) => Promise<JobVerdict>;
    onSettled: () => void;
    fallbackDelayMs: (attemptsMade: number) => number;
    concurrency: number;
  }): void;
  close(graceMs: number): Promise<void>;
}

export function openNotificationQueue(
  settings: RedisSettings,
  attempts: number,
  log: Logger,
): NotificationQueue {
  const timeoutMs = settings.commandTimeoutMs;
  const producer = createRedis(settings, 'producer');
  const workerRedis = createRedis(settings, 'worker');
  const queue = new Queue<NotificationJob>(NOTIFICATION_QUEUE, {
    connection: producer,
    prefix: settings.prefix,
  });
  queue.on('error', (error) => log.warn({ err: messageOf(error) }, 'notification queue error'));
  let worker: Worker | undefined;

  return {
    async add(id) {
      const jobId = notificationJobId(id);
      await withTimeout(
        queue.add(
          JOB_NAME,
          { v: 1, id },
          { jobId, attempts, backoff: { type: BACKOFF }, removeOnComplete: true, removeOnFail: true },
        ),
        timeoutMs,
        `enqueue ${jobId}`,
      );
    },
    async presence(id) {
      const job = await withTimeout(
        queue.getJob(notificationJobId(id)),
        timeoutMs,
        'look up notification job',
      );
      if (job === undefined) return 'missing';
      return job.finishedOn === undefined ? 'open' : 'finished';
    },
    async remove(id) {
      await withTimeout(queue.remove(notificationJobId(id)), timeoutMs, 'remove notification job');
    },
    connected: () => producer.status === 'ready',
    connect: (ms) => waitForReady(producer, ms),
    onReady(listener) {
      producer.on('ready', listener);
    },
    startWorker(options) {
      const processor = async (job: Job): Promise<void> => {
        const parsed = parseNotificationJob(job.data, job.id);
        if (typeof parsed === 'string') {
          log.error(
            { alert: 'job-corrupt', queue: NOTIFICATION_QUEUE, jobId: job.id, reason: parsed },
            'corrupt job dead-lettered',
          );
          throw new UnrecoverableError(`corrupt job data: ${parsed}`);
        }
        const verdict = await options.handle(parsed);
        if (verdict.kind === 'retry') throw new RetryLater(verdict.reason, verdict.delayMs);
        if (verdict.kind === 'give-up') throw new UnrecoverableError(verdict.reason);
      };
      worker = new Worker(NOTIFICATION_QUEUE, processor, {
        connection: workerRedis,
        prefix: settings.prefix,
        concurrency: options.concurrency,
        removeOnFail: { count: DEAD_LETTERS_KEPT },
        removeOnComplete: { count: 0 },
        settings: {
          backoffStrategy: (attemptsMade, _type, error) =>
            error instanceof RetryLater ? error.delayMs : options.fallbackDelayMs(attemptsMade),
        },
      });
      worker.on('error', (error) => log.warn({ err: messageOf(error) }, 'notification worker error'));
      worker.on('completed', () => options.onSettled());
      worker.on('failed', () => options.onSettled());
    },
    async close(graceMs) {
      producer.removeAllListeners('ready');
      if (worker !== undefined) {
        await withTimeout(worker.close(), graceMs, 'close notification worker').catch(() => {});
      }
      await withTimeout(queue.close(), timeoutMs, 'close notification queue').catch(() => {});
      await Promise.all([closeRedis(producer, timeoutMs), closeRedis(workerRedis, timeoutMs)]);
    },
  };
}
