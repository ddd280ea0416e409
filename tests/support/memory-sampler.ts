/**
 * Samples a gateway's memory once a second from its own Prometheus metrics (the resident set, the heaps of
 * V8, buffers and handles, read in one scrape, so the figures are of one moment), for judging a drain's memory
 * (memory-flat.ts). A scrape that fails is skipped: the drain's own wait decides whether the gateway is gone.
 */

import { httpRequest } from './gateway.ts';
import type { MemorySample } from './memory-flat.ts';

export interface MemorySampler {
  /** Stops sampling and returns every sample taken, oldest first. */
  stop(): Promise<MemorySample[]>;
}

const RSS = 'process_resident_memory_bytes';
const HEAP_USED = 'nodejs_heap_size_used_bytes';
const HEAP_RESIDENT = 'mra_heap_resident_bytes';
const EXTERNAL = 'nodejs_external_memory_bytes';
const HANDLES = 'nodejs_active_handles_total';

/** The sample in a Prometheus text exposition; undefined when one of its figures is missing. */
export function sampleOf(exposition: string): MemorySample | undefined {
  const lines = exposition.split('\n');
  const value = (series: string): number | undefined => {
    const line = lines.find((l) => l.startsWith(`${series} `));
    const n =
      line === undefined
        ? Number.NaN
        : Number(
            line
              .slice(series.length + 1)
              .trim()
              .split(' ')[0],
          );
    return Number.isFinite(n) ? n : undefined;
  };
  const rss = value(RSS);
  const heapUsed = value(HEAP_USED);
  const main = value(`${HEAP_RESIDENT}{thread="main"}`);
  const verify = value(`${HEAP_RESIDENT}{thread="verify"}`);
  const external = value(EXTERNAL);
  const handles = value(HANDLES);
  return rss === undefined ||
    heapUsed === undefined ||
    main === undefined ||
    verify === undefined ||
    external === undefined ||
    handles === undefined
    ? undefined
    : { rss, heapUsed, heapResident: main + verify, external, handles };
}

/** Reads the gateway's memory now; throws when its metrics cannot be read. */
export async function readMemory(apiUrl: string, monitoringToken: string): Promise<MemorySample> {
  const res = await httpRequest(`${apiUrl}/metrics`, {
    method: 'GET',
    headers: { authorization: `Bearer ${monitoringToken}` },
  });
  const sample = res.status === 200 ? sampleOf(res.text) : undefined;
  if (sample === undefined)
    throw new Error(`no memory figures in the gateway's metrics (HTTP ${res.status})`);
  return sample;
}

export function startMemorySampler(apiUrl: string, monitoringToken: string, everyMs = 1_000): MemorySampler {
  const samples: MemorySample[] = [];
  let inFlight: Promise<void> = Promise.resolve();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return; // a slow scrape is not stacked behind another
    busy = true;
    inFlight = readMemory(apiUrl, monitoringToken)
      .then((s) => void samples.push(s))
      .catch(() => {})
      .finally(() => {
        busy = false;
      });
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
      return samples;
    },
  };
}
