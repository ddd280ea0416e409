/**
 * The rule that judges a drain's memory flat (tests/support/memory-flat.ts) tells V8 sizing its heap from a leak,
 * whether the leak is in the JavaScript heap or outside it; and the sampler reads its figures from the
 * gateway's Prometheus text.
 */
import { describe, expect, it } from 'vitest';
import {
  LIVE_GROWTH_BOUND,
  type MemorySample,
  memoryGrowth,
  NATIVE_GROWTH_BOUND,
} from '../support/memory-flat.ts';
import { sampleOf } from '../support/memory-sampler.ts';

const MIB = 1024 * 1024;
const N = 100;
// 100 samples of a drain at 1,000 records a second. Outside the heap: 150 MiB, a buffer spike now and then.
const outside = (i: number) => (150 + (i % 7 === 0 ? 30 : 0)) * MIB;
// Garbage comes and goes between collections: heap used saw-tooths 20 MiB over a live floor of 45 MiB.
const used = (i: number, live: number) => live + (i % 5) * 5 * MIB;

describe('memory growth of a drain', () => {
  it('passes V8 growing its heap late in a slow drain, with nothing kept', () => {
    // The reserved heap grows from 60 to 220 MiB in the last third (the collector running later under load).
    const samples: MemorySample[] = Array.from({ length: N }, (_, i) => {
      const heapTotal = (60 + Math.max(0, i - 66) * 4.8) * MIB;
      return { heapTotal, heapUsed: used(i, 45 * MIB), rss: outside(i) + heapTotal };
    });
    const g = memoryGrowth(samples);
    expect(g.peak - g.start).toBeGreaterThan(150 * MIB);
    expect(g.live).toBe(0);
    expect(g.native).toBe(0);
  });

  it('catches a leak of 2 KB a record in the JavaScript heap', () => {
    const samples: MemorySample[] = Array.from({ length: N }, (_, i) => {
      const live = 45 * MIB + i * 1_000 * 2_048;
      const heapTotal = live + 40 * MIB;
      return { heapTotal, heapUsed: used(i, live), rss: outside(i) + heapTotal };
    });
    const g = memoryGrowth(samples);
    expect(g.live).toBeGreaterThan(LIVE_GROWTH_BOUND);
    expect(g.native).toBeLessThanOrEqual(NATIVE_GROWTH_BOUND);
  });

  it('catches a leak of 2 KB a record outside the heap', () => {
    const samples: MemorySample[] = Array.from({ length: N }, (_, i) => {
      const heapTotal = 80 * MIB;
      return { heapTotal, heapUsed: used(i, 45 * MIB), rss: outside(i) + i * 1_000 * 2_048 + heapTotal };
    });
    const g = memoryGrowth(samples);
    expect(g.native).toBeGreaterThan(NATIVE_GROWTH_BOUND);
    expect(g.live).toBe(0);
  });

  it('refuses to judge from too few samples', () => {
    expect(() => memoryGrowth([])).toThrow(/too few/);
  });
});

describe('memory figures from the Prometheus text', () => {
  it('reads the resident set and the heap, and nothing from a text without them', () => {
    const text = [
      '# HELP process_resident_memory_bytes Resident memory size in bytes.',
      '# TYPE process_resident_memory_bytes gauge',
      'process_resident_memory_bytes 231211008',
      'nodejs_heap_size_total_bytes 90112000',
      'nodejs_heap_size_used_bytes 51200000',
      'nodejs_heap_space_size_used_bytes{space="old"} 1',
    ].join('\n');
    expect(sampleOf(text)).toEqual({ rss: 231211008, heapTotal: 90112000, heapUsed: 51200000 });
    expect(sampleOf(text.replace('nodejs_heap_size_used_bytes 51200000', ''))).toBeUndefined();
  });
});
