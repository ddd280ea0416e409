/**
 * The producer side of the delivery queues: add a batch, ask whether a batch's job still exists, remove a
 * finished one. Every call is bounded (THREATS.md 53); the caller keeps its rows in PostgreSQL and tries again.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type DeliveryJob, deliveryJobId, deliveryQueueName, JOB_NAMES } from './jobs.ts';
import { messageOf, withTimeout } from './timeout.ts';

/** The custom backoff of delivery jobs (worker.ts): the delay a failed attempt asked for. */
export const DELIVERY_BACKOFF = 'delivery';

export type JobPresence = 'open' | 'finished' | 'missing';

export interface DeliveryProducer {
  /** Adds the batch's job; while a job with the same id exists BullMQ keeps that one. Returns the job id. */
  add(job: DeliveryJob): Promise<string>;
  /** 'open' while waiting, delayed or active; 'finished' when completed or failed; 'missing' when Redis lost it. */
  presence(partner: string, jobId: string): Promise<JobPresence>;
  remove(partner: string, jobId: string): Promise<void>;
  close(): Promise<void>;
}

export interface ProducerOptions {
  redis: Redis;
  prefix: string;
  timeoutMs: number;
  /** BullMQ's own bound on attempts; the worker gives up first, from the attempts kept in PostgreSQL. */
  attempts: number;
  log: Logger;
}

export function createDeliveryProducer(options: ProducerOptions): DeliveryProducer {
  const queues = new Map<string, Queue<DeliveryJob>>();
  const { timeoutMs } = options;

  function queueOf(partner: string): Queue<DeliveryJob> {
    let queue = queues.get(partner);
    if (queue === undefined) {
      queue = new Queue<DeliveryJob>(deliveryQueueName(partner), {
        connection: options.redis,
        prefix: options.prefix,
      });
      queue.on('error', (error) =>
        options.log.warn({ partner, err: messageOf(error) }, 'delivery queue error'),
      );
      queues.set(partner, queue);
    }
    return queue;
  }

  return {
    async add(job) {
      const jobId = deliveryJobId(job);
      await withTimeout(
        queueOf(job.partner).add(JOB_NAMES.deliverBatch, job, {
          jobId,
          attempts: options.attempts,
          backoff: { type: DELIVERY_BACKOFF },
          // PostgreSQL keeps the outcome (delivered, dead); a finished job would only block its id.
          removeOnComplete: true,
          removeOnFail: true,
        }),
        timeoutMs,
        `enqueue ${jobId}`,
      );
      return jobId;
    },
    async presence(partner, jobId) {
      const job = await withTimeout(queueOf(partner).getJob(jobId), timeoutMs, `look up job ${jobId}`);
      if (job === undefined) return 'missing';
      return job.finishedOn === undefined ? 'open' : 'finished';
    },
    async remove(partner, jobId) {
      await withTimeout(queueOf(partner).remove(jobId), timeoutMs, `remove job ${jobId}`);
    },
    async close() {
      await Promise.all(
        [...queues.values()].map((q) => withTimeout(q.close(), timeoutMs, 'close queue').catch(() => {})),
      );
      queues.clear();
    },
  };
}
