/**
 * docs/threats.md 60, the policy alone: the delay before the next attempt doubles from `backoffMs` up to
 * `maxBackoffMs`, keeps half of each step and draws the other half at random (so batches that failed together
 * spread out), and never comes before the partner's Retry-After, itself capped.
 */
import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../src/delivery/backoff.ts';
import { RETRY_AFTER_CEILING_MS, retryDelayMs } from '../../src/queue/retry.ts';

const settings = { backoffMs: 200, maxBackoffMs: 3_000 };
const step = (attempt: number) => Math.min(3_000, 200 * 2 ** (attempt - 1));

describe('retryDelayMs', () => {
  it('stays within [step/2, step], the step doubling from backoffMs up to maxBackoffMs', () => {
    for (let attempt = 1; attempt <= 12; attempt += 1) {
      expect(
        retryDelayMs(attempt, settings, undefined, () => 0),
        `attempt ${attempt}`,
      ).toBe(step(attempt) / 2);
      expect(retryDelayMs(attempt, settings, undefined, () => 0.999_999)).toBe(step(attempt));
      for (let i = 0; i < 200; i += 1) {
        const d = retryDelayMs(attempt, settings);
        expect(d).toBeGreaterThanOrEqual(step(attempt) / 2);
        expect(d).toBeLessThanOrEqual(step(attempt));
      }
    }
    expect(step(5)).toBe(3_000);
    expect(retryDelayMs(50, settings, undefined, () => 0.999_999)).toBe(3_000);
  });

  it('is jittered: draws spread over the whole upper half of the step', () => {
    const draws = Array.from({ length: 2_000 }, () => retryDelayMs(4, settings));
    const lo = step(4) / 2;
    // Every tenth of [step/2, step] is hit; a constant or a narrow band is not jitter.
    const tenths = new Set(draws.map((d) => Math.min(9, Math.floor(((d - lo) / lo) * 10))));
    expect(tenths.size).toBe(10);
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    expect(mean).toBeGreaterThan(lo * 1.4);
    expect(mean).toBeLessThan(lo * 1.6);
  });

  it('never comes before the Retry-After the partner sent, which is capped at an hour', () => {
    expect(retryDelayMs(1, settings, 5_000, () => 0.5)).toBe(5_000);
    expect(retryDelayMs(8, settings, 10, () => 0.5)).toBe(retryDelayMs(8, settings, undefined, () => 0.5));
    expect(retryDelayMs(1, settings, 10 * RETRY_AFTER_CEILING_MS, () => 0)).toBe(RETRY_AFTER_CEILING_MS);
    expect(retryDelayMs(1, settings, 0, () => 0)).toBe(100);
  });

  it('is at least 1 ms with odd settings, and never NaN', () => {
    expect(retryDelayMs(1, { backoffMs: 0, maxBackoffMs: 0 }, undefined, () => 0)).toBe(1);
    expect(retryDelayMs(0, settings, undefined, () => 0)).toBe(100);
    expect(Number.isFinite(retryDelayMs(10_000, settings))).toBe(true);
  });
});

describe('parseRetryAfter', () => {
  const now = new Date('2026-03-01T12:00:00Z');
  it('reads delay-seconds and IMF-fixdate', () => {
    expect(parseRetryAfter('3', now)).toBe(3_000);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
    expect(parseRetryAfter('Sun, 01 Mar 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sun, 01 Mar 2026 11:00:00 GMT', now)).toBe(0);
  });
  it('ignores what it cannot read', () => {
    for (const v of [undefined, '', '-1', '1.5', '1e3', 'soon', '2026-03-01T12:00:30Z', '12345678901'])
      expect(parseRetryAfter(v, now), String(v)).toBeUndefined();
  });
});
