/**
 * A partner's Retry-After (docs/threats.md 60), read for the retry policy of queue/retry.ts, which never tries
 * again earlier than it asks.
 */

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
