/**
 * The pace of batches to one partner (src/delivery/pace.ts): a token bucket per partner. What it must hold: in
 * any span of time, a partner gets at most the burst plus the rate over that span, so a partner counting a
 * caller's requests in windows of a minute never sees more than it allows; and a sender that waits as told
 * keeps that rate, no slower.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { burstOf, createPace } from '../../src/delivery/pace.ts';

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('the pace of batches to a partner', () => {
  it('lets a burst of 3 s worth go at once, then one batch per token', () => {
    const c = clock();
    const pace = createPace(540, c.now);
    expect(burstOf(540)).toBe(27);
    for (let i = 0; i < 27; i++) {
      expect(pace.waitMs('CL')).toBe(0);
      pace.took('CL', 1);
    }
    // 9 a second: the next token in 112 ms (rounded up).
    expect(pace.waitMs('CL')).toBe(112);
    c.advance(111);
    expect(pace.waitMs('CL')).toBeGreaterThan(0);
    c.advance(1);
    expect(pace.waitMs('CL')).toBe(0);
  });

  it('keeps each partner apart', () => {
    const c = clock();
    const pace = createPace(60, c.now);
    pace.took('CL', 3);
    expect(pace.waitMs('CL')).toBe(1_000);
    expect(pace.waitMs('CR')).toBe(0);
  });

  it('makes a claim of more batches than tokens a debt the next waits pay', () => {
    const c = clock();
    const pace = createPace(60, c.now);
    pace.took('CL', 5); // a burst of 3: 2 owed
    expect(pace.waitMs('CL')).toBe(3_000);
  });

  it('never holds more than the burst, however long a partner was idle', () => {
    const c = clock();
    const pace = createPace(60, c.now);
    c.advance(3_600_000);
    for (let i = 0; i < 3; i++) pace.took('CL', 1);
    expect(pace.waitMs('CL')).toBe(1_000);
  });

  it('paces nothing at 0 or without a setting', () => {
    for (const off of [0, Number.NaN]) {
      const pace = createPace(off, () => 0);
      pace.took('CL', 1_000);
      expect(pace.waitMs('CL')).toBe(0);
    }
  });

  it('sends at most the burst plus the rate in any span, and no fewer when the sender waits as told', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2_000 }),
        fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 1, maxLength: 300 }),
        (perMinute, gaps) => {
          const c = clock();
          const pace = createPace(perMinute, c.now);
          const sent: number[] = [];
          // A sender that tries after each gap, and, when told to wait, waits exactly that long and sends.
          for (const gap of gaps) {
            c.advance(gap);
            const wait = pace.waitMs('CL');
            c.advance(wait);
            expect(pace.waitMs('CL')).toBe(0);
            pace.took('CL', 1);
            sent.push(c.now());
          }
          const burst = burstOf(perMinute);
          for (let i = 0; i < sent.length; i++) {
            for (let j = i; j < sent.length; j++) {
              const span = sent[j]! - sent[i]!;
              expect(j - i + 1).toBeLessThanOrEqual(burst + (span * perMinute) / 60_000 + 1e-9);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
