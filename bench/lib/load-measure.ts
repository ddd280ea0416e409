/**
 * Measuring a process under HTTP load: autocannon runs with the server's CPU time, latency quantiles, manifests
 * timed to their last byte, resident set and JS heap.
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { request } from 'undici';

export const CONNECTIONS = 50;

export interface Throughput {
  perSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** Requests answered per CPU second of the server (all its threads), when its pid is known. */
  perCpuSecond: number;
}

/** CPU seconds a process has used so far, all threads (Linux /proc; NaN elsewhere). */
export function processCpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may hold spaces; the fields after it are fixed: utime is the 14th, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** `serverPid`: the process answering, whose CPU time divides the requests answered. */
export async function cannon(
  url: string,
  seconds: number,
  token: string,
  path?: () => string,
  serverPid?: number,
  connections = CONNECTIONS,
): Promise<Throughput> {
  const cpuBefore = processCpuSeconds(serverPid);
  const r = await autocannon({
    url,
    connections,
    duration: seconds,
    headers: { authorization: `Bearer ${token}` },
    ...(path === undefined ? {} : { requests: [{ setupRequest: (req) => ({ ...req, path: path() }) }] }),
  });
  const cpu = processCpuSeconds(serverPid) - cpuBefore;
  return {
    perSecond: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    perCpuSecond: r.requests.total / cpu,
  };
}

/**
 * Posts each body in turn, one at a time, and times it to the last byte of the answer (parsing it is the border
 * system's own work, checked after the clock stops); the first `warmup` are not timed. Fails on anything but
 * 200 or on an answer without one item per query.
 */
export async function timeManifests(
  url: string,
  token: string,
  bodies: readonly string[],
  warmup: number,
  itemsOf: (answer: unknown) => number,
  expected: number,
): Promise<{ ms: number; bytes: number }[]> {
  const times: { ms: number; bytes: number }[] = [];
  for (const [i, body] of bodies.entries()) {
    const t0 = performance.now();
    const res = await request(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });
    const received = await res.body.arrayBuffer();
    const elapsed = performance.now() - t0;
    if (res.statusCode !== 200) throw new Error(`manifest: HTTP ${res.statusCode}`);
    const items = itemsOf(JSON.parse(Buffer.from(received).toString('utf8')));
    if (items !== expected) throw new Error(`manifest: ${items} answers for ${expected} items`);
    if (i >= warmup) times.push({ ms: elapsed, bytes: received.byteLength });
  }
  return times;
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
