/**
 * A kind of job, declared once: its queue, its job id, and the corrupt-job guard over its payload. Deliveries
 * and notifications are two declarations (jobs.ts); the worker (worker.ts) turns a handler's verdict into
 * BullMQ's terms the same way for both.
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

export type JobVerdict =
  | { kind: 'done' }
  /** Try again after `delayMs` (backoff with jitter, or the receiver's Retry-After). */
  | { kind: 'retry'; delayMs: number; reason: string }
  /** Do not try again: the rows are dead letters already. */
  | { kind: 'give-up'; reason: string };

export type JobHandler<T> = (job: T, meta: { jobId: string }) => Promise<JobVerdict>;

export interface JobKind<T> {
  /** Names the kind in logs, and is the custom backoff type its jobs carry. */
  readonly label: string;
  readonly jobName: string;
  /** The queue of a key: the partner's for deliveries, one for every notification. */
  queueName(key: string): string;
  keyOf(job: T): string;
  /**
   * Deterministic, so that a relay that enqueued a job but could not record it (crash, lost commit) enqueues
   * the same job again, which BullMQ ignores while the first one exists. BullMQ forbids `:` in custom ids.
   */
  jobId(job: T): string;
  /**
   * The corrupt-job guard (docs/threats.md 67): job data is whatever Redis holds, so it is checked like any
   * other untrusted input before it names a single row; a job that fails is dead-lettered, never retried.
   */
  parse(data: unknown, key: string, jobId: string | undefined): Parsed<T>;
}

/** Carries the delay a handler chose to the backoff strategy, which BullMQ calls with the thrown error. */
export class RetryLater extends Error {
  readonly delayMs: number;
  constructor(reason: string, delayMs: number) {
    super(reason);
    this.name = 'RetryLater';
    this.delayMs = delayMs;
  }
}
