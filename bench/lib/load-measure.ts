/** Measuring a process under HTTP load: autocannon runs, latency quantiles, resident set and JS heap. */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';

export const CONNECTIONS = 50;

export interface Throughput {
  perSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

export async function cannon(
  url: string,
  seconds: number,
  token: string,
  path?: () => string,
): Promise<Throughput> {
  const r = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    headers: { authorization: `Bearer ${token}` },
    ...(path === undefined ? {} : { requests: [{ setupRequest: (req) => ({ ...req, path: path() }) }] }),
  });
  return {
    perSecond: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
}

export const vmRssBytes = (pid: number | undefined) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]) * 1024;
};

/** The JS heap in use, from a diagnostic report the process writes on SIGUSR2 (--report-on-signal). */
export async function heapUsedBytes(child: ChildProcess, dir: string): Promise<number> {
  const before = new Set(readdirSync(dir));
  child.kill('SIGUSR2');
  for (let i = 0; i < 100; i += 1) {
    await new Promise((r) => setTimeout(r, 100));
    const file = readdirSync(dir).find((f) => !before.has(f) && f.endsWith('.json'));
    if (file === undefined) continue;
    try {
      const report = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        javascriptHeap: { usedMemory: number };
      };
      return report.javascriptHeap.usedMemory;
    } catch {
      // still being written
    }
  }
  throw new Error('no diagnostic report');
}
