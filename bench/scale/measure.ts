/** One layout of the scale benchmark under load: inbound batches, then border lookups, each with its CPU. */
import { createHash } from 'node:crypto';
import { createPartnerClient } from '../../src/partner-client/client.ts';
import { BATCH_SIZE } from '../inbound/options.ts';
import { type Admins, postInLanes } from '../inbound/receive.ts';
import { cpuByProcess, cpuSample } from '../lib/cpu.ts';
import type { Database } from '../lib/database.ts';
import { aeoIdOf } from '../lib/foreign-operators.ts';
import { CONNECTIONS, cannon, type Throughput } from '../lib/load-measure.ts';
import type { Running } from './layouts.ts';

export const BORDER_TOKEN = 'bench-scale-border-token-0123456789abcdef';
export const borderTokenSha256 = () => createHash('sha256').update(BORDER_TOKEN).digest('hex');

export interface Measured {
  records: number;
  recordsPerSecond: number;
  /** CPU seconds of the gateway processes, and of PostgreSQL, over the inbound phase. */
  inboundGatewayCpu: number;
  inboundDatabaseCpu: number;
  inboundOtherCpu: number;
  lookups: number;
  lookupsPerSecond: number;
  lookupP99Ms: number;
  lookupGatewayCpu: number;
  lookupOtherCpu: number;
  failed: number;
}

/** CONNECTIONS in all, split between the layout's lookup addresses; their rates summed, the worse p99. */
async function lookups(running: Running, seconds: number, path: () => string): Promise<Throughput> {
  const each = Math.ceil(CONNECTIONS / running.lookupUrls.length);
  const runs = await Promise.all(
    running.lookupUrls.map((url) => cannon(url, seconds, BORDER_TOKEN, path, undefined, each)),
  );
  return {
    perSecond: runs.reduce((s, r) => s + r.perSecond, 0),
    p50: Math.max(...runs.map((r) => r.p50)),
    p99: Math.max(...runs.map((r) => r.p99)),
    non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
    errors: runs.reduce((s, r) => s + r.errors, 0),
    // CPU is counted over every gateway process by withCpu.
    perCpuSecond: Number.NaN,
  };
}

/** Sums the CPU of every gateway process (labelled `gateway <pid>`) and of PostgreSQL over `work`. */
async function withCpu<T>(running: Running, database: Database, work: () => Promise<T>) {
  const watched = () => running.pids().map((pid) => ({ pid, label: `gateway ${pid}` }));
  const before = await cpuSample(watched(), [database]);
  const result = await work();
  const cpu = cpuByProcess(before, await cpuSample(watched(), [database]));
  const sum = (match: (name: string) => boolean) =>
    cpu.filter(([name]) => match(name)).reduce((s, [, t]) => s + t, 0);
  return {
    result,
    gateway: sum((n) => n.startsWith('gateway ')),
    database: sum((n) => n === 'postgresql'),
    other: sum((n) => n === 'other processes'),
  };
}

export async function measureLayout(
  running: Running,
  database: Database,
  admins: Admins,
  batches: { warmUp: string[]; timed: string[][] },
  options: { concurrency: number; seconds: number },
): Promise<Measured> {
  const client = createPartnerClient('PE', admins.sender.partners[0]!, { timeoutMs: 60_000 });
  let failed = 0;
  try {
    const send = async (records: string[]) => {
      const result = await client.sendRecords(records);
      if (!result.ok) throw new Error(`batch refused: HTTP ${result.status}: ${result.reason}`);
      const accepted = result.receipt.results.filter((r) => r.outcome === 'accepted').length;
      failed += records.length - accepted;
      return accepted;
    };
    await send(batches.warmUp);
    const inbound = await withCpu(running, database, () =>
      postInLanes(batches.timed, options.concurrency, send),
    );
    const operators = (batches.timed.length + 1) * BATCH_SIZE;
    const path = () => `/api/v1/operators/PE/${aeoIdOf('PE', 1 + Math.floor(Math.random() * operators))}`;
    // Warm-up of the lookup path in every process, then the timed run.
    await lookups(running, 1, path);
    const lookup = await withCpu(running, database, () => lookups(running, options.seconds, path));
    failed += lookup.result.non2xx + lookup.result.errors;
    return {
      records: inbound.result.accepted,
      recordsPerSecond: inbound.result.accepted / inbound.result.seconds,
      inboundGatewayCpu: inbound.gateway,
      inboundDatabaseCpu: inbound.database,
      inboundOtherCpu: inbound.other,
      lookups: lookup.result.perSecond * options.seconds,
      lookupsPerSecond: lookup.result.perSecond,
      lookupP99Ms: lookup.result.p99,
      lookupGatewayCpu: lookup.gateway,
      lookupOtherCpu: lookup.other,
      failed,
    };
  } finally {
    await client.close();
  }
}
