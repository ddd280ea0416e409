/**
 * The monitoring figures' small rules: nearest-rank percentiles (always a measured value), the reporting
 * period's checks and days, and the lookup counter's per-day, per-outcome counts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import { LookupCounts } from '../../src/lookup/lookup-counts.ts';
import { nearestRank, percentilesOf, percentilesOfCounts } from '../../src/monitoring/percentile.ts';
import { checkPeriod, dayAfter, daysOf, periodInstant } from '../../src/monitoring/period.ts';

describe('nearest-rank percentiles', () => {
  it('takes the value at rank ceil(p/100 * n) of the sorted values', () => {
    const values = [15, 20, 35, 40, 50];
    // Worked example of the method: rank ceil(0.3 * 5) = 2 → 20; ceil(0.4 * 5) = 2 → 20; p50 → rank 3 → 35.
    expect(nearestRank(values, 30)).toBe(20);
    expect(nearestRank(values, 40)).toBe(20);
    expect(nearestRank(values, 50)).toBe(35);
    expect(nearestRank(values, 100)).toBe(50);
    expect(nearestRank([], 50)).toBeUndefined();
  });

  it('gives p50, p95 and p99 of 1..100 as 50, 95 and 99, and of one value that value', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentilesOf(hundred)).toEqual({ p50: 50, p95: 95, p99: 99 });
    expect(percentilesOf([7])).toEqual({ p50: 7, p95: 7, p99: 7 });
    // No measurement: left out, never 0.
    expect(percentilesOf([])).toBeUndefined();
    // A negative interval (clocks apart) counts as 0 ms.
    expect(percentilesOf([-40, 10])).toEqual({ p50: 0, p95: 10, p99: 10 });
  });

  it('always answers one of the values, ordered p50 ≤ p95 ≤ p99', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1, maxLength: 300 }),
        (values) => {
          const p = percentilesOf(values);
          expect(p).toBeDefined();
          for (const v of [p?.p50, p?.p95, p?.p99]) expect(values).toContain(v);
          expect(p?.p50 ?? 0).toBeLessThanOrEqual(p?.p95 ?? 0);
          expect(p?.p95 ?? 0).toBeLessThanOrEqual(p?.p99 ?? 0);
          // At least p% of the values are at or below the p-th percentile, and fewer are strictly below.
          const below = (x: number) => values.filter((v) => v < x).length;
          const atOrBelow = (x: number) => values.filter((v) => v <= x).length;
          expect(atOrBelow(p?.p95 ?? 0)).toBeGreaterThanOrEqual(Math.ceil(0.95 * values.length));
          expect(below(p?.p95 ?? 0)).toBeLessThan(Math.ceil(0.95 * values.length));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('gives the same percentiles from a histogram as from the values it counts', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -50, max: 5_000 }), fc.integer({ min: 0, max: 40 })), {
          maxLength: 60,
        }),
        (counts) => {
          const values = counts.flatMap(([v, n]) => Array<number>(n).fill(v));
          expect(percentilesOfCounts(counts)).toEqual(percentilesOf(values));
        },
      ),
      { numRuns: 300 },
    );
    expect(percentilesOfCounts([])).toBeUndefined();
    expect(percentilesOfCounts([[12, 0]])).toBeUndefined();
    expect(
      percentilesOfCounts([
        [10, 98],
        [500, 2],
      ]),
    ).toEqual({ p50: 10, p95: 10, p99: 500 });
  });
});

describe('reporting periods', () => {
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (error) {
      return error instanceof GatewayError ? error.code : 'other';
    }
    return 'none';
  };

  it('accepts real dates, from ≤ to, up to 366 days both ends included', () => {
    expect(checkPeriod('2026-10-01', '2026-10-31')).toEqual({ from: '2026-10-01', to: '2026-10-31' });
    expect(code(() => checkPeriod('2024-01-01', '2024-12-31'))).toBe('none'); // 366 days, a leap year
    expect(code(() => checkPeriod('2025-01-01', '2026-01-01'))).toBe('none'); // 366 days
    expect(code(() => checkPeriod('2025-01-01', '2026-01-02'))).toBe('BAD_REQUEST'); // 367
    expect(code(() => checkPeriod('2026-10-31', '2026-10-01'))).toBe('BAD_REQUEST');
    expect(code(() => checkPeriod('2026-02-30', '2026-03-01'))).toBe('BAD_REQUEST');
    expect(code(() => checkPeriod('0000-01-01', '2026-03-01'))).toBe('BAD_REQUEST');
    expect(code(() => checkPeriod('2026-1-01', '2026-03-01'))).toBe('BAD_REQUEST');
    expect(code(() => checkPeriod(undefined, '2026-03-01'))).toBe('BAD_REQUEST');
    expect(code(() => checkPeriod(['2026-01-01'], '2026-03-01'))).toBe('BAD_REQUEST');
  });

  it('lists every UTC day of a period and takes standing figures at its end, or now when earlier', () => {
    expect(daysOf({ from: '2024-02-27', to: '2024-03-01' })).toEqual([
      '2024-02-27',
      '2024-02-28',
      '2024-02-29',
      '2024-03-01',
    ]);
    expect(daysOf({ from: '2025-01-01', to: '2026-01-01' })).toHaveLength(366);
    const period = { from: '2026-10-01', to: '2026-10-31' };
    expect(periodInstant(period, new Date('2027-01-01T00:00:00Z')).toISOString()).toBe(
      '2026-10-31T23:59:59.999Z',
    );
    expect(dayAfter('2024-02-28').toISOString()).toBe('2024-02-29T00:00:00.000Z');
    // No instant past the year 9999: the end of its last day is its last millisecond.
    expect(dayAfter('9999-12-31').toISOString()).toBe('9999-12-31T23:59:59.999Z');
    const midway = new Date('2026-10-15T12:00:00Z');
    expect(periodInstant(period, midway)).toEqual(midway);
  });
});

describe('lookup counts', () => {
  it('counts per configured issuer, UTC day and outcome, and skips issuers that are no partner', () => {
    let now = Date.parse('2026-10-31T23:59:59.000Z');
    const counts = new LookupCounts(['CL', 'MX'], () => now);
    counts.count('CL', undefined);
    counts.count('CL', undefined);
    counts.count('CL', 'suspended');
    counts.count('US', undefined);
    counts.count(undefined, 'unknown');
    now += 2_000; // the next UTC day
    counts.count('CL', 'unknown');
    counts.count('MX', 'out-of-scope');
    const rows = counts
      .pending()
      .sort((a, b) => `${a.day}${a.issuer}${a.outcome}`.localeCompare(`${b.day}${b.issuer}${b.outcome}`));
    expect(rows).toEqual([
      { issuer: 'CL', day: '2026-10-31', outcome: 'recognised', count: 2 },
      { issuer: 'CL', day: '2026-10-31', outcome: 'suspended', count: 1 },
      { issuer: 'CL', day: '2026-11-01', outcome: 'unknown', count: 1 },
      { issuer: 'MX', day: '2026-11-01', outcome: 'out-of-scope', count: 1 },
    ]);
  });

  it('puts counts back when a flush fails, and writes them with the next one', async () => {
    const counts = new LookupCounts(['CL']);
    counts.count('CL', undefined);
    const written: unknown[][] = [];
    let fail = true;
    const sql = {
      query: async <R>(_text: string, params?: readonly unknown[]): Promise<R[]> => {
        if (fail) throw new Error('store away');
        written.push(JSON.parse(String(params?.[0])) as unknown[]);
        return [];
      },
      exec: async () => {},
    };
    await expect(counts.flush(sql)).rejects.toThrow('store away');
    counts.count('CL', undefined);
    fail = false;
    await counts.flush(sql);
    expect(written).toHaveLength(1);
    expect(written[0]).toEqual([expect.objectContaining({ issuer: 'CL', outcome: 'recognised', count: 2 })]);
    expect(counts.pending()).toEqual([]);
  });
});
