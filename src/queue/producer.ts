/**
 * The producer side of a kind of job: add one, ask whether a job still exists, remove a finished one. Every
 * call is bounded (docs/threats.md 53); the caller keeps its rows in PostgreSQL and tries again.
 */
import type { Queue } from 'bullmq';
import type { JobKind } from './job-kind.ts';
import type { RetryPolicy } from './retry.ts';
import { withTimeout } from './timeout.ts';

export type JobPresence = 'open' | 'finished' | 'missing';

export interface JobProducer<T> {
  /** Adds the job; while a job with the same id exists BullMQ keeps that one. Returns the job id. */
  add(job: T): Promise<string>;
  /** 'open' while waiting, delayed or active; 'finished' when completed or failed; 'missing' when Redis lost it. */
  presence(key: string, jobId: string): Promise<JobPresence>;
  remove(key: string, jobId: string): Promise<void>;
}

export function createProducer<T>(
  kind: JobKind<T>,
  retry: RetryPolicy,
  /** The runtime's queue by name, on the shared producer connection. */
  queueOf: (name: string) => Queue,
  timeoutMs: number,
): JobProducer<T> {
  return {
    async add(job) {
      const jobId = kind.jobId(job);
      await withTimeout(
        queueOf(kind.queueName(kind.keyOf(job))).add(kind.jobName, job, {
          jobId,
          attempts: retry.attempts,
          backoff: { type: kind.label },
          // PostgreSQL keeps the outcome (delivered, dead); a finished job would only block its id.
          removeOnComplete: true,
          removeOnFail: true,
        }),
        timeoutMs,
        `enqueue ${jobId}`,
      );
      return jobId;
    },
    async presence(key, jobId) {
      const job = await withTimeout(
        queueOf(kind.queueName(key)).getJob(jobId),
        timeoutMs,
        `look up job ${jobId}`,
      );
      if (job === undefined) return 'missing';
      return job.finishedOn === undefined ? 'open' : 'finished';
    },
    async remove(key, jobId) {
      await withTimeout(queueOf(kind.queueName(key)).remove(jobId), timeoutMs, `remove job ${jobId}`);
    },
  };
}
