/** The rule that judges a drain's memory flat (tests/support/memory-flat.ts) tells a heap's rise from a leak. */
import { describe, expect, it } from 'vitest';
import { LATE_GROWTH_BOUND, memoryGrowth } from '../support/memory-flat.ts';

const MIB = 1024 * 1024;

describe('memory growth of a drain', () => {
  it('passes a rise that levels off, with a collection spike near the end', () => {
    // 100 samples: 220 MiB rising to 315 MiB over the first 40 s, then flat, one spike of 345 MiB.
    const samples = Array.from({ length: 100 }, (_, i) => (220 + Math.min(i, 40) * 2.4) * MIB);
    samples[90] = 345 * MIB;
    const g = memoryGrowth(samples);
    expect(g.peak - g.start).toBe(125 * MIB);
    expect(g.late).toBeLessThanOrEqual(LATE_GROWTH_BOUND);
  });

  it('catches a leak of 2 KB a record over a 100,000-record backlog', () => {
    // 1,000 records a second for 100 s, each leaving 2 KB behind.
    const samples = Array.from({ length: 100 }, (_, i) => 220 * MIB + i * 1_000 * 2_048);
    expect(memoryGrowth(samples).late).toBeGreaterThan(LATE_GROWTH_BOUND);
  });

  it('refuses to judge from too few samples', () => {
    expect(() => memoryGrowth([1, 2])).toThrow(/too few/);
  });
});
