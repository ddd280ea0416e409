/** The lookup benchmark's report (bench/lookup.ts): one line per figure, each beside its aim, then one JSON line. */
import os from 'node:os';
import { AIMS, besideAim } from '../lib/aims.ts';
import { fmt, line, UNCONTROLLED } from '../lib/format.ts';
import type { Throughput } from '../lib/load-measure.ts';
import { distribution } from '../lib/stats.ts';
import type { LookupOptions } from './options.ts';

/** Items in a manifest. */
export const BATCH = 3_000;

interface Memory {
  rss: number;
  heap: number;
}

export interface LookupFigures {
  options: LookupOptions;
  started: number;
  database: { serverVersion: string };
  fillSeconds: number;
  loadSeconds: number;
  runs: { hello: Throughput[]; lookup: Throughput[] };
  idleShare: number;
  /** The first idle window's share, right after ready, and how long the idle figure took to settle. */
  idleFirstShare: number;
  idleWaitedMs: number;
  manifests: Record<'full' | 'compact', { ms: number; bytes: number }[]>;
  memory: { empty: Memory; loaded: Memory; afterRss: number };
}

const mean = (list: Throughput[], k: keyof Throughput) => list.reduce((s, t) => s + t[k], 0) / list.length;
const meanBytes = (list: { bytes: number }[]) => list.reduce((sum, m) => sum + m.bytes, 0) / list.length;

export function printReport(figures: LookupFigures): void {
  const { options, started, database, fillSeconds, loadSeconds, runs, idleShare, manifests, memory } =
    figures;
  const batch = distribution(manifests.full.map((m) => m.ms));
  const compact = distribution(manifests.compact.map((m) => m.ms));
  const cpus = os.cpus();
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const helloRps = mean(runs.hello, 'perSecond');
  const lookupRps = mean(runs.lookup, 'perSecond');
  const ratio = lookupRps / helloRps;
  const cpuRatio = mean(runs.lookup, 'perCpuSecond') / mean(runs.hello, 'perCpuSecond');
  const lookupP99 = mean(runs.lookup, 'p99');
  console.log('MRA gateway lookup benchmark');
  line(
    'machine',
    `${cpus.length} cores, ${cpus[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
  );
  line('node / postgresql', `${process.version} / ${database.serverVersion}`);
  line(
    'operators',
    `${fmt(options.operators)} (generated in ${fillSeconds.toFixed(0)} s; gateway ready in ${loadSeconds.toFixed(1)} s)`,
  );
  for (const [name, list] of Object.entries(runs)) {
    for (const [i, t] of list.entries()) {
      line(
        `${name} run ${i + 1}`,
        `${fmt(t.perSecond)} req/s (${fmt(t.perCpuSecond)} per server cpu s), p50 ${t.p50} ms, p99 ${t.p99} ms, non-2xx ${t.non2xx}, errors ${t.errors}`,
      );
    }
  }
  line('hello-world baseline (mean)', `${fmt(helloRps)} req/s, p99 ${mean(runs.hello, 'p99').toFixed(1)} ms`);
  line(
    'single lookups (mean)',
    `${fmt(lookupRps)} req/s, p50 ${mean(runs.lookup, 'p50').toFixed(1)} ms, p99 ${lookupP99.toFixed(1)} ms ${besideAim(AIMS.lookupP99Ms, lookupP99)}`,
  );
  line('ratio', `${ratio.toFixed(3)} ${besideAim(AIMS.lookupRatio, ratio)}`);
  line('ratio per server cpu second', `${cpuRatio.toFixed(3)} ${besideAim(AIMS.lookupRatio, cpuRatio)}`);
  line(
    'gateway cpu when idle',
    `${(idleShare * 100).toFixed(1)} % of a core (included in its cpu per lookup), settled after ` +
      `${(figures.idleWaitedMs / 1000).toFixed(0)} s; ${(figures.idleFirstShare * 100).toFixed(1)} % in the first ` +
      '2 s after ready (the start-time runs over every operator)',
  );
  line(
    `manifest of ${fmt(BATCH)}, compact (${manifests.compact.length} timed)`,
    `p50 ${compact.p50.toFixed(1)} ms, p99 ${compact.p99.toFixed(1)} ms, max ${compact.max.toFixed(1)} ms, ${fmt(meanBytes(manifests.compact) / 1024)} KiB ${besideAim(AIMS.manifestP99Ms, compact.p99)}`,
  );
  line(
    `manifest of ${fmt(BATCH)}, full (${manifests.full.length} timed)`,
    `p50 ${batch.p50.toFixed(1)} ms, p99 ${batch.p99.toFixed(1)} ms, max ${batch.max.toFixed(1)} ms, ${fmt(meanBytes(manifests.full) / 1024)} KiB (no aim: its cost)`,
  );
  line(
    'gateway RSS empty / loaded',
    `${mib(memory.empty.rss)} / ${mib(memory.loaded.rss)}; after the load runs ${mib(memory.afterRss)}`,
  );
  line('gateway JS heap empty / loaded', `${mib(memory.empty.heap)} / ${mib(memory.loaded.heap)}`);
  line(
    'read model memory (RSS delta)',
    `${mib(memory.loaded.rss - memory.empty.rss)} (aim < 1024 MiB); heap delta ${mib(memory.loaded.heap - memory.empty.heap)}`,
  );
  line('not controlled', UNCONTROLLED);
  line('wall time', `${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(
    `result ${JSON.stringify({
      operators: options.operators,
      helloPerSecond: Math.round(helloRps),
      lookupPerSecond: Math.round(lookupRps),
      ratio: Number(ratio.toFixed(3)),
      cpuRatio: Number(cpuRatio.toFixed(3)),
      gatewayIdleCpuShare: Number(idleShare.toFixed(3)),
      gatewayIdleCpuShareAfterReady: Number(figures.idleFirstShare.toFixed(3)),
      lookupP99Ms: Number(lookupP99.toFixed(1)),
      batchP50Ms: Number(batch.p50.toFixed(1)),
      batchP99Ms: Number(batch.p99.toFixed(1)),
      compactBatchP50Ms: Number(compact.p50.toFixed(1)),
      compactBatchP99Ms: Number(compact.p99.toFixed(1)),
      batchKiB: Math.round(meanBytes(manifests.full) / 1024),
      compactBatchKiB: Math.round(meanBytes(manifests.compact) / 1024),
      readModelRssMiB: Math.round((memory.loaded.rss - memory.empty.rss) / 2 ** 20),
      readModelHeapMiB: Math.round((memory.loaded.heap - memory.empty.heap) / 2 ** 20),
    })}`,
  );
}
