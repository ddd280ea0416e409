/**
 * The rule that judges a drain's memory flat (tests/support/memory-flat.ts) tells V8 sizing its heap from a leak,
 * whether the leak is in the JavaScript heap or outside it; and the sampler reads its figures from the
 * gateway's Prometheus text.
 */
import { describe, expect, it } from 'vitest';
import {
  BUFFER_GROWTH_BOUND,
  HANDLE_GROWTH_BOUND,
  LIVE_GROWTH_BOUND,
  type MemorySample,
  memoryGrowth,
} from '../support/memory-flat.ts';
import { sampleOf } from '../support/memory-sampler.ts';

const MIB = 1024 * 1024;
const N = 100;
// 100 samples of a drain at 1,000 records a second. Garbage comes and goes between collections: heap used
// saw-tooths 20 MiB over its live floor, buffers 50 MiB over theirs; handles vary with requests in flight.
const used = (i: number, live: number) => live + (i % 5) * 5 * MIB;
const buffers = (i: number, held: number) => held + (i % 4) * 16 * MIB;
const handles = (i: number, open: number) => open + (i % 3) * 10;

function drain(
  shape: (i: number) => {
    live?: number;
    held?: number;
    open?: number;
    heapResident?: number;
    native?: number;
  },
): MemorySample[] {
  return Array.from({ length: N }, (_, i) => {
    const {
      live = 45 * MIB,
      held = 15 * MIB,
      open = 40,
      heapResident = 80 * MIB,
      native = 150 * MIB,
    } = shape(i);
    return {
      heapUsed: used(i, live),
      heapResident,
      external: buffers(i, held),
      handles: handles(i, open),
      rss: native + heapResident,
    };
  });
}

describe('memory growth of a drain', () => {
  it('passes V8 growing its heap late in a slow drain, and an allocator keeping its high-water mark', () => {
    // The heap grows from 60 to 220 MiB in the last third (the collector running later under load); the memory
    // outside the heaps steps up 40 MiB at the last third and stays there.
    const g = memoryGrowth(
      drain((i) => ({
        heapResident: (60 + Math.max(0, i - 66) * 4.8) * MIB,
        native: (150 + (i >= 66 ? 40 : 0)) * MIB,
      })),
    );
    expect(g.peak - g.start).toBeGreaterThan(150 * MIB);
    expect(g.live).toBe(0);
    expect(g.buffers).toBe(0);
    expect(g.handles).toBe(0);
    expect(g.outside).toBe(40 * MIB);
  });

  it('catches a leak of 2 KB a record in the JavaScript heap', () => {
    const g = memoryGrowth(drain((i) => ({ live: 45 * MIB + i * 1_000 * 2_048 })));
    expect(g.live).toBeGreaterThan(LIVE_GROWTH_BOUND);
    expect(g.buffers).toBe(0);
  });

  it('catches a leak of 2 KB a record in buffers held outside the heap', () => {
    const g = memoryGrowth(drain((i) => ({ held: 15 * MIB + i * 1_000 * 2_048 })));
    expect(g.buffers).toBeGreaterThan(BUFFER_GROWTH_BOUND);
    expect(g.live).toBe(0);
  });

  it('catches a handle left open per batch of 500 records', () => {
    const g = memoryGrowth(drain((i) => ({ open: 40 + Math.floor((i * 1_000) / 500) })));
    expect(g.handles).toBeGreaterThan(HANDLE_GROWTH_BOUND);
    expect(g.live).toBe(0);
    expect(g.buffers).toBe(0);
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
      'mra_heap_resident_bytes{thread="main"} 70000000',
      'mra_heap_resident_bytes{thread="verify"} 12000000',
      'nodejs_external_memory_bytes 9000000',
      'nodejs_active_handles_total 41',
    ].join('\n');
    expect(sampleOf(text)).toEqual({
      rss: 231211008,
      heapResident: 82000000,
      heapUsed: 51200000,
      external: 9000000,
      handles: 41,
    });
    expect(sampleOf(text.replace('nodejs_heap_size_used_bytes 51200000', ''))).toBeUndefined();
    expect(sampleOf(text.replace('mra_heap_resident_bytes{thread="verify"} 12000000', ''))).toBeUndefined();
  });
});
