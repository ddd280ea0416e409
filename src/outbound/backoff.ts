/**
 * When to try a partner again (THREATS.md 60): exponential backoff with jitter, capped, and never earlier than
 * the partner's own Retry-After.
 */
import type { OutboundSettings } from '../config/types.ts';

/** A Retry-After beyond this is read as this: a partner cannot park our deliveries for days with one header. */
export const RETRY_AFTER_CEILING_MS = 3_600_000;

/**
 * Delay before attempt `attempt + 1`, after `attempt` (1-based) failed. "Equal jitter": half the exponential
 * step is kept, so batches that failed together spread out, yet none comes back at once.
 */
export function retryDelayMs(
  attempt: number,
  settings: Pick<OutboundSettings, 'backoffMs' | 'maxBackoffMs'>,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const step = Math.min(settings.maxBackoffMs, settings.backoffMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.round(step / 2 + random() * (step / 2));
  if (retryAfterMs === undefined) return Math.max(1, jittered);
  return Math.max(1, jittered, Math.min(retryAfterMs, RETRY_AFTER_CEILING_MS));
}

/** RFC 9110 Retry-After: delay-seconds or an HTTP-date. Undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: Date = new Date()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1_000;
  // Only the IMF-fixdate form is read; `Date.parse` alone would also take digits and odd formats.
  if (!/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}
