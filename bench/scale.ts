/**
 * How throughput grows from one gateway process to two (issue 12, item 6): the same inbound batches and the same
 * border lookups against the receiving gateway laid out as one process, as a cluster of two processes
 * (`server.processes: 2`) and as two replicas behind one address, each on a fresh PostgreSQL database and one
 * Redis. Prints records/s and lookups/s of each, the growth ratio (two ÷ one) of the cluster and of the replicas,
 * and the CPU per record and per lookup, so that a model of a larger deployment can be built on them.
 *
 *   npm run bench:scale                              10 timed batches of 500, lookups for 5 s, each layout
 *   npm run bench:scale -- --batches 6 --seconds 3   (bench:quick's settings)
 *
 * Options (argument, else environment variable):
 *   --batches N       BENCH_BATCHES       timed batches of 500 ES256 records per layout, 1 to 19 (default 10)
 *   --concurrency C   BENCH_CONCURRENCY   batches in flight, 1 to 8 (default 4: two per process of two)
 *   --seconds S       BENCH_SECONDS       duration of each lookup measurement, 1 to 60 (default 5)
 *   --rounds R        BENCH_ROUNDS        the three layouts in turn, R times, figures averaged (default 1)
 *   --no-replicas                         one process and the cluster only (a shorter run)
 *   BENCH_PG_URL, BENCH_REDIS_URL         the servers (defaults: 127.0.0.1:5432 and 127.0.0.1:6379)
 *
 * A growth ratio on a machine with fewer free cores than processes says what the machine allows, not what the
 * gateway does: the report gives the CPU each layout used, per record and per lookup, with the rest of the
 * machine's, so that the ratios read beside what was free. Everything stays on loopback; the load comes from
 * this process (autocannon, 50 connections; the partner client), whose CPU is not counted as the gateway's.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { devConfig, writeConfig } from '../src/cli/setup.ts';
import { makeAdmins, signBatches } from './inbound/receive.ts';
import { cleanups, runBenchmark, undoNow } from './lib/cleanup.ts';
import { createDatabase } from './lib/database.ts';
import { fmt, line, printMachine, printTable, UNCONTROLLED } from './lib/format.ts';
import { freePort } from './lib/gateway-process.ts';
import { intOption, pgUrlOption } from './lib/options.ts';
import { LAYOUTS, type Layout, startLayout } from './scale/layouts.ts';
import { borderTokenSha256, type Measured, measureLayout } from './scale/measure.ts';

function readOptions() {
  const { values } = parseArgs({
    options: {
      batches: { type: 'string' },
      concurrency: { type: 'string' },
      seconds: { type: 'string' },
      rounds: { type: 'string' },
      'no-replicas': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(
      'npm run bench:scale -- [--batches 1..19] [--concurrency 1..8] [--seconds 1..60] [--rounds 1..5]',
    );
    process.exit(0);
  }
  const env = process.env;
  return {
    batches: intOption('batches', values.batches ?? env.BENCH_BATCHES, 10, 1, 19),
    concurrency: intOption('concurrency', values.concurrency ?? env.BENCH_CONCURRENCY, 4, 1, 8),
    seconds: intOption('seconds', values.seconds ?? env.BENCH_SECONDS, 5, 1, 60),
    rounds: intOption('rounds', values.rounds ?? env.BENCH_ROUNDS, 1, 1, 5),
    layouts: values['no-replicas'] === true ? LAYOUTS.filter((l) => l !== 'two replicas') : LAYOUTS,
    pgUrl: pgUrlOption(),
    redisUrl: env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
  };
}

async function dropKeys(redisUrl: string, pattern: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 5_000, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  await redis.connect();
  try {
    let cursor = '0';
    for (let i = 0; i < 10_000; i += 1) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
  } finally {
    redis.disconnect();
  }
}

const mean = (list: readonly Measured[], k: keyof Measured) =>
  list.reduce((s, m) => s + m[k], 0) / list.length;

async function main(): Promise<void> {
  const options = readOptions();
  const started = Date.now();
  const admins = await makeAdmins(false);
  const dir = mkdtempSync(join(os.tmpdir(), 'mra-bench-scale-'));
  cleanups.add(() => rmSync(admins.dir, { recursive: true, force: true }));
  cleanups.add(() => rmSync(dir, { recursive: true, force: true }));
  const prefix = `mra-bench-scale-${process.pid}-${randomBytes(4).toString('hex')}`;
  const base = devConfig({ ...admins.cl, apiPort: await freePort() }, [admins.pe], { mtls: false });
  base.redis = { prefix };
  base.outbound = { pullIntervalMs: 0, reconcileIntervalMs: 0 };
  // No partner gateway runs: nothing to pull from or push summaries to.
  base.monitoring = { summaries: { auto: false } };
  base.apiClients = [{ id: 'bench-border', tokenSha256: borderTokenSha256(), scopes: ['border'] }];
  // The configured limits are the gateway's, shared out among its processes: high enough not to refuse the load.
  base.server = { ...base.server, rateLimitPerMinute: 1_000_000, maxConnectionsPerAddress: 1_000 };
  base.api = { ...base.api, maxConnectionsPerAddress: 1_000 };
  const basePath = join(dir, 'CL.yaml');
  writeConfig(basePath, base);
  const dropRedis = () => dropKeys(options.redisUrl, `${prefix}*`);
  cleanups.add(dropRedis);

  const [warmUp, ...timed] = await signBatches(admins.sender, options.batches + 1);
  const batches = { warmUp: warmUp!, timed };
  const layouts = options.layouts;
  const results = new Map<Layout, Measured[]>(layouts.map((l) => [l, []]));
  let pgVersion = 'unknown';
  for (let round = 0; round < options.rounds; round += 1) {
    for (const layout of layouts) {
      const database = await createDatabase(options.pgUrl);
      pgVersion = database.serverVersion;
      cleanups.add(database.drop);
      const t0 = Date.now();
      const running = await startLayout(layout, basePath, database.url, dir);
      cleanups.add(running.stop);
      console.error(
        `bench: ${layout}, round ${round + 1}: ready in ${((Date.now() - t0) / 1000).toFixed(1)} s, ` +
          `processes ${running.pids().join(', ')}`,
      );
      results.get(layout)!.push(await measureLayout(running, database, admins, batches, options));
      await undoNow(running.stop);
      await undoNow(database.drop);
      await dropRedis();
    }
  }
  await undoNow(dropRedis);

  const cpus = os.availableParallelism();
  const of = (layout: Layout) => results.get(layout)!;
  const perSecond = (layout: Layout) => mean(of(layout), 'recordsPerSecond');
  const lookups = (layout: Layout) => mean(of(layout), 'lookupsPerSecond');
  const cpuMs = (layout: Layout, cpu: keyof Measured, per: keyof Measured) =>
    (mean(of(layout), cpu) / mean(of(layout), per)) * 1000;
  const one: Layout = 'one process';
  const growth = (layout: Layout) => ({
    inbound: perSecond(layout) / perSecond(one),
    lookup: lookups(layout) / lookups(one),
  });
  console.log('MRA gateway scale benchmark: one process, a cluster of two, two replicas');
  printMachine();
  line('postgresql', pgVersion);
  line(
    'workload',
    `${options.batches} timed batches of 500 ES256 records after 1 warm-up, ${options.concurrency} in flight; ` +
      `then single lookups for ${options.seconds} s at 50 connections; ${options.rounds} round(s), averaged`,
  );
  printTable(
    [
      'layout',
      'records/s',
      'growth',
      'gateway cpu ms/record',
      'pg cpu ms/record',
      'lookups/s',
      'growth',
      'p99 ms',
      'gateway cpu ms/lookup',
      'other cpu s',
    ],
    layouts.map((l) => [
      l,
      fmt(perSecond(l)),
      growth(l).inbound.toFixed(2),
      cpuMs(l, 'inboundGatewayCpu', 'records').toFixed(3),
      cpuMs(l, 'inboundDatabaseCpu', 'records').toFixed(3),
      fmt(lookups(l)),
      growth(l).lookup.toFixed(2),
      mean(of(l), 'lookupP99Ms').toFixed(1),
      cpuMs(l, 'lookupGatewayCpu', 'lookups').toFixed(3),
      (mean(of(l), 'inboundOtherCpu') + mean(of(l), 'lookupOtherCpu')).toFixed(1),
    ]),
  );
  line(
    'read beside',
    `${cpus} cores on this machine; a growth of 2 needs two free cores for the gateway besides PostgreSQL and the load`,
  );
  line('not controlled', UNCONTROLLED);
  line('wall time', `${((Date.now() - started) / 1000).toFixed(0)} s`);
  const cluster = growth('cluster of 2');
  const replicas = layouts.includes('two replicas') ? growth('two replicas') : undefined;
  const round3 = (x: number) => Number(x.toFixed(3));
  console.log(
    `result ${JSON.stringify({
      inbound1PerSecond: Math.round(perSecond(one)),
      inbound2PerSecond: Math.round(perSecond('cluster of 2')),
      inboundGrowth: round3(cluster.inbound),
      lookup1PerSecond: Math.round(lookups(one)),
      lookup2PerSecond: Math.round(lookups('cluster of 2')),
      lookupGrowth: round3(cluster.lookup),
      ...(replicas === undefined
        ? {}
        : {
            replicasInboundPerSecond: Math.round(perSecond('two replicas')),
            replicasLookupPerSecond: Math.round(lookups('two replicas')),
            replicasInboundGrowth: round3(replicas.inbound),
            replicasLookupGrowth: round3(replicas.lookup),
          }),
      inboundCpuMsPerRecord1: round3(cpuMs(one, 'inboundGatewayCpu', 'records')),
      inboundCpuMsPerRecord2: round3(cpuMs('cluster of 2', 'inboundGatewayCpu', 'records')),
      inboundDatabaseCpuMsPerRecord1: round3(cpuMs(one, 'inboundDatabaseCpu', 'records')),
      lookupCpuMsPerLookup1: round3(cpuMs(one, 'lookupGatewayCpu', 'lookups')),
      lookupCpuMsPerLookup2: round3(cpuMs('cluster of 2', 'lookupGatewayCpu', 'lookups')),
    })}`,
  );
  const failed = layouts.reduce((s, l) => s + mean(of(l), 'failed'), 0);
  if (failed > 0) {
    console.error(`bench: ${fmt(failed)} records or lookups failed`);
    process.exitCode = 1;
  }
}

runBenchmark(main);
