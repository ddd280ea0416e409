/**
 * How fast batches go to one partner: a token bucket per partner (`outbound.requestsPerMinute`), checked by the
 * relay before it claims a partner's next batch. A partner's gateway limits each caller's requests a minute
 * (600 by default, `server.rateLimitPerMinute`); a sender that outruns it is answered 429 with a Retry-After of
 * tens of seconds, and every decision behind that batch waits as long. Staying under the limit costs at most
 * the gap between two tokens; running into it costs the Retry-After.
 */
import type { Pace } from '../outbox-relay.ts';

/** A minute's tokens held at most: a burst of three seconds' worth, at least one batch. */
export function burstOf(perMinute: number): number {
  return Math.max(1, Math.ceil(perMinute / 20));
}

/** A pace of `perMinute` batches a minute per key; 0 paces nothing. */
export function createPace(perMinute: number, now: () => number = () => performance.now()): Pace {
  if (!(perMinute > 0)) return { waitMs: () => 0, took: () => {} };
  const burst = burstOf(perMinute);
  const perMs = perMinute / 60_000;
  const buckets = new Map<string, { tokens: number; at: number }>();
  const bucketOf = (key: string) => {
    const t = now();
    let b = buckets.get(key);
    if (b === undefined) {
      b = { tokens: burst, at: t };
      buckets.set(key, b);
    }
    b.tokens = Math.min(burst, b.tokens + (t - b.at) * perMs);
    b.at = t;
    return b;
  };
  return {
    waitMs(key) {
      const b = bucketOf(key);
      // Within a rounding error of a whole token is a token: a sender that waited as told goes.
      return b.tokens >= 1 - 1e-9 ? 0 : Math.ceil((1 - b.tokens) / perMs);
    },
    took(key, batches) {
      // A claim of more batches than tokens leaves a debt the next waits pay.
      bucketOf(key).tokens -= batches;
    },
  };
}
