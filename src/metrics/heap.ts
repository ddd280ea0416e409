/**
 * `mra_heap_resident_bytes`: the memory V8's heaps hold resident, the main thread's and the verification
 * threads' together (their isolates are outside the main heap). `nodejs_heap_size_total_bytes` is what V8 has
 * reserved, which runs ahead of what it has touched: the resident set minus it is no measure of the memory
 * outside V8, while the resident set minus these two is (native allocations, buffers, stacks, code).
 */
import { getHeapStatistics } from 'node:v8';
import { Gauge, type Registry } from 'prom-client';

/** A thread whose heap can be read: a node:worker_threads Worker. */
export interface HeapReader {
  getHeapStatistics(): Promise<{ total_physical_size: number }>;
}

/** A thread that does not answer within this is left out of the scrape rather than holding it. */
const THREAD_READ_TIMEOUT_MS = 2_000;

export function registerHeapGauge(registry: Registry, verifyThreads: () => readonly HeapReader[]): void {
  new Gauge({
    name: 'mra_heap_resident_bytes',
    help: "Resident memory of V8's heaps: the main thread's, and the verification threads' together",
    labelNames: ['thread'] as const,
    registers: [registry],
    async collect() {
      this.set({ thread: 'main' }, getHeapStatistics().total_physical_size);
      const sizes = await Promise.all(verifyThreads().map(residentOf));
      this.set(
        { thread: 'verify' },
        sizes.reduce((sum, n) => sum + n, 0),
      );
    },
  });
}

/** A thread's resident heap; 0 when it has gone or does not answer in time (a thread that ended holds none). */
async function residentOf(thread: HeapReader): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<number>((resolve) => {
    timer = setTimeout(() => resolve(0), THREAD_READ_TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      thread.getHeapStatistics().then(
        (s) => s.total_physical_size,
        () => 0,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
