/**
 * `mra_heap_resident_bytes` (src/metrics/heap.ts): the main thread's resident heap, and the verification
 * threads' summed; a thread that has gone or does not answer counts for nothing and never holds the scrape.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { type HeapReader, registerHeapGauge } from '../../src/metrics/heap.ts';

const answering = (bytes: number): HeapReader => ({
  getHeapStatistics: async () => ({ total_physical_size: bytes }),
});

async function read(threads: readonly HeapReader[]): Promise<Record<string, number>> {
  const registry = new Registry();
  registerHeapGauge(registry, () => threads);
  const metric = await registry.getSingleMetric('mra_heap_resident_bytes')?.get();
  return Object.fromEntries((metric?.values ?? []).map((v) => [String(v.labels.thread), v.value]));
}

describe('the resident heap gauge', () => {
  it("sums the verification threads' heaps and reads the main thread's", async () => {
    const figures = await read([answering(3_000_000), answering(4_500_000)]);
    expect(figures.verify).toBe(7_500_000);
    expect(figures.main).toBeGreaterThan(1_000_000);
  });

  it('counts 0 for a thread that has ended, and 0 threads as 0', async () => {
    const ended: HeapReader = { getHeapStatistics: () => Promise.reject(new Error('worker exited')) };
    expect((await read([ended, answering(1_000)])).verify).toBe(1_000);
    expect((await read([])).verify).toBe(0);
  });

  it('does not wait past its bound for a thread that never answers', async () => {
    const silent: HeapReader = { getHeapStatistics: () => new Promise(() => {}) };
    const started = Date.now();
    expect((await read([silent, answering(2_000)])).verify).toBe(2_000);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
