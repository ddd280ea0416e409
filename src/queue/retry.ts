/**
 * When to try a job again (docs/threats.md 60), for every kind of job: exponential backoff with jitter,
 * capped, and never earlier than the receiver's own Retry-After.
 */

/** A Retry-After beyond this is read as this: a receiver cannot park our jobs for days with one header. */
export const RETRY_AFTER_CEILING_MS = 3_600_000;

export interface BackoffSettings {
  backoffMs: number;
  maxBackoffMs: number;
}

/**
 * Delay before attempt `attempt + 1`, after `attempt` (1-based) failed. "Equal jitter": half the exponential
 * step is kept, so jobs that failed together spread out, yet none comes back at once.
 */
export function retryDelayMs(
  attempt: number,
  settings: BackoffSettings,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const step = Math.min(settings.maxBackoffMs, settings.backoffMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.round(step / 2 + random() * (step / 2));
  if (retryAfterMs === undefined) return Math.max(1, jittered);
  return Math.max(1, jittered, Math.min(retryAfterMs, RETRY_AFTER_CEILING_MS));
}

export interface RetryPolicy {
  /** BullMQ's bound on attempts; the handlers give up first, from the attempts kept in PostgreSQL. */
  attempts: number;
  /** Delay before retrying a job that failed unexpectedly (store down, a bug), by attempts made. */
  fallbackDelayMs(attemptsMade: number): number;
}

export function retryPolicy(attempts: number, settings: BackoffSettings): RetryPolicy {
  return { attempts, fallbackDelayMs: (attemptsMade) => retryDelayMs(attemptsMade, settings) };
}
