/**
 * The machine's raw signature-verification rate: node:crypto, one worker thread per core, each verifying the
 * same ES256 signature of one real record in a loop for a fixed time.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';

const VERIFY_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
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
const key = createPublicKey({ key: Buffer.from(workerData.spki), format: 'der', type: 'spki' });
const data = Buffer.from(workerData.data);
const signature = Buffer.from(workerData.signature);
const options = { key, dsaEncoding: 'ieee-p1363' };
if (!verify('sha256', data, options, signature)) throw new Error('the fixed signature does not verify');
for (let i = 0; i < 2000; i++) verify('sha256', data, options, signature);
parentPort.once('message', () => {
  const cpuStart = cpuSeconds();
  const start = performance.now();
  const end = start + workerData.ms;
  let count = 0;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 32; i++) verify('sha256', data, options, signature);
    count += 32;
    now = performance.now();
  }
  parentPort.postMessage({ count, ms: now - start, cpu: cpuSeconds() - cpuStart });
});
parentPort.postMessage('ready');
`;

export interface RawVerify {
  threads: number;
  perSecond: number;
  /** Verifications per CPU second the threads actually got (NaN where /proc is missing). */
  perCpuSecond: number;
}

/** `signed` is one real record: the rate is measured on the same signing input length as the inbound path. */
export async function measureRawVerify(
  signed: string,
  spki: Uint8Array,
  seconds: number,
): Promise<RawVerify> {
  const lastDot = signed.lastIndexOf('.');
  const data = Buffer.from(signed.slice(0, lastDot), 'ascii');
  const signature = Buffer.from(signed.slice(lastDot + 1), 'base64url');
  const threads = os.availableParallelism();
  const workers = Array.from(
    { length: threads },
    () =>
      new Worker(VERIFY_WORKER, { eval: true, workerData: { spki, data, signature, ms: seconds * 1000 } }),
  );
  try {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            w.once('message', () => resolve());
            w.once('error', reject);
          }),
      ),
    );
    const results = workers.map(
      (w) =>
        new Promise<{ count: number; ms: number; cpu: number }>((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        }),
    );
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
