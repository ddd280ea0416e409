/**
 * A raw node:crypto rate on every core: one worker thread per core runs the same operation in a loop for a fixed
 * time, after a warm-up, and reports how many it did in how much wall and CPU time. raw-verify.ts and
 * raw-sign.ts give the operation (verifying or signing one real record); this runs it.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';

export interface RawRate {
  threads: number;
  perSecond: number;
  /** Operations per CPU second the threads actually got (NaN where /proc is missing). */
  perCpuSecond: number;
}

/**
 * The worker's source: `setup` (CommonJS, with `workerData` in scope) must define `once()`, which does the
 * operation once, and check it works; the loop, warm-up and CPU accounting are the same for every operation.
 */
function workerSource(setup: string): string {
  return `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
// CPU seconds this thread has run (Linux); NaN elsewhere.
const cpuSeconds = () => {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
};
${setup}
for (let i = 0; i < 2000; i++) once();
parentPort.once('message', () => {
  const cpuStart = cpuSeconds();
  const start = performance.now();
  const end = start + workerData.ms;
  let count = 0;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 32; i++) once();
    count += 32;
    now = performance.now();
  }
  parentPort.postMessage({ count, ms: now - start, cpu: cpuSeconds() - cpuStart });
});
parentPort.postMessage('ready');
`;
}

/** Runs `setup`'s operation on one thread per core for `seconds`; all threads start together. */
export async function measureOnAllCores(
  setup: string,
  data: Record<string, unknown>,
  seconds: number,
): Promise<RawRate> {
  const threads = os.availableParallelism();
  const source = workerSource(setup);
  const workers = Array.from(
    { length: threads },
    () => new Worker(source, { eval: true, workerData: { ...data, ms: seconds * 1000 } }),
  );
  const next = <T>(w: Worker) =>
    new Promise<T>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
  try {
    await Promise.all(workers.map((w) => next<unknown>(w)));
    const results = workers.map((w) => next<{ count: number; ms: number; cpu: number }>(w));
    for (const w of workers) w.postMessage('go');
    const done = await Promise.all(results);
    const count = done.reduce((sum, r) => sum + r.count, 0);
    return {
      threads,
      perSecond: done.reduce((sum, r) => sum + (r.count * 1000) / r.ms, 0),
      perCpuSecond: count / done.reduce((sum, r) => sum + r.cpu, 0),
    };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
