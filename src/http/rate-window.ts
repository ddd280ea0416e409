/**
 * Requests counted per caller in fixed windows: the one count behind the listener's rate limit, read by
 * @fastify/rate-limit (as its store) and by the border-lookup lane (routes/api/operators-lane.ts), so a caller's requests are
 * counted once whichever way they are answered. Counting is a Map read and an increment: lookups come by the
 * thousand a second.
 */
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';

/** What a caller has used of its window: the requests so far, and the milliseconds until the window ends. */
export interface WindowUse {
  current: number;
  ttl: number;
}

interface Window {
  current: number;
  start: number;
}

/**
 * Callers held at most. Past it the oldest window goes, in O(1): windows are held in the order they began (one
 * that starts again moves to the end), so the first is the oldest, and an ended window is dropped before any
 * that still runs.
 */
export const MAX_CALLERS = 10_000;

export class RateWindows {
  private readonly windows = new Map<string, Window>();
  readonly windowMs: number;
  readonly clock: () => number;

  constructor(windowMs: number, clock: () => number = Date.now) {
    this.windowMs = windowMs;
    this.clock = clock;
  }

  /** Counts one request of `key` and says how much of its window is used. */
  count(key: string): WindowUse {
    const now = this.clock();
    const { windowMs, windows } = this;
    let w = windows.get(key);
    if (w === undefined || w.start + windowMs <= now) {
      if (w !== undefined) windows.delete(key);
      else if (windows.size >= MAX_CALLERS) {
        const oldest = windows.keys().next();
        if (oldest.done !== true) windows.delete(oldest.value);
      }
      w = { current: 0, start: now };
      windows.set(key, w);
    }
    w.current += 1;
    return { current: w.current, ttl: w.start + windowMs - now };
  }

  /** Callers held (for tests). */
  get size(): number {
    return this.windows.size;
  }

  /**
   * The class @fastify/rate-limit instantiates as its `store`: the listener's limit counts in these windows
   * (their window is the plugin's, base-app.ts). A route with a limit of its own (dashboard sign-in) gets
   * windows of its own from `child`, as with the plugin's default store.
   */
  storeClass(): FastifyRateLimitStoreCtor {
    const windows = this;
    const over = (counted: RateWindows): FastifyRateLimitStore => ({
      incr: (key, done) => done(null, counted.count(key)),
      // The plugin passes the route's merged limits, its window among them.
      child: (route) => {
        const { timeWindow } = route as { timeWindow?: unknown };
        return over(
          new RateWindows(typeof timeWindow === 'number' ? timeWindow : windows.windowMs, windows.clock),
        );
      },
    });
    return class {
      constructor() {
        // biome-ignore lint/correctness/noConstructorReturn: the plugin instantiates a class; the store is shared
        return over(windows);
      }
    } as unknown as FastifyRateLimitStoreCtor;
  }
}
