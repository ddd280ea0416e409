/**
 * Border lookups with a million foreign operators loaded, against a bare fastify hello-world route measured in
 * the same run on the same machine (the speed aims of bench/lib/aims.ts): single lookups at 50 connections
 * (requests/s and requests per CPU second of the server, over the baseline's), a 3,000-identifier manifest to
 * the last byte in the compact form (the aim) and in the full form (its cost), and the read model's memory.
 *
 *   npm run bench:lookup                              1,000,000 operators, 10 s per throughput measurement
 *   npm run bench:lookup -- --operators 100000 --seconds 5
 *
 * Options (argument, else environment variable):
 *   --operators N   BENCH_OPERATORS   foreign operators loaded, 1,000 to 2,000,000 (default 1,000,000)
 *   --seconds S     BENCH_SECONDS     duration of each throughput measurement, 2 to 60 (default 10)
 *   --batches B     BENCH_BATCHES     timed 3,000-identifier manifests of each form, 10 to 500 (default 100)
 *   --cpu-prof DIR  BENCH_CPU_PROF    write a V8 CPU profile of the loaded gateway into DIR
 *   BENCH_PG_URL    the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres); a fresh database
 *                   is created for the run and dropped at the end
 *
 * The receiving gateway (CL) and the baseline each run as their own process on loopback; load comes from
 * autocannon in this process. The operators are generated in the database (bench/lib/foreign-operators.ts).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { sampleRecord } from '../src/cli/samples.ts';
import { type DevAdministration, devConfig, writeConfig } from '../src/cli/setup.ts';
import { loadConfig } from '../src/config/load.ts';
import { createDevAdministration } from '../src/crypto/dev-ca.ts';
import { signRecord } from '../src/publishing/sign-record.ts';
import { startBareServer } from './lib/bare-baseline.ts';
import { cleanups, runBenchmark, undoNow } from './lib/cleanup.ts';
import { createDatabase } from './lib/database.ts';
import { aeoIdOf, fillOperators, tinOf } from './lib/foreign-operators.ts';
import { fmt } from './lib/format.ts';
import { freePort, type GatewayProcess, spawnGateway, waitReady } from './lib/gateway-process.ts';
import {
  cannon,
  heapUsedBytes,
  processCpuSeconds,
  type Throughput,
  timeManifests,
  vmRssBytes,
} from './lib/load-measure.ts';
import { readOptions } from './lookup/options.ts';
import { BATCH, printReport } from './lookup/report.ts';

const TOKEN = 'bench-border-token-0123456789abcdef';
const IDLE_MS = 2_000;
const MAX_IDLE_WINDOWS = 15;
/** Items answered in a manifest's answer, either form. */
const answersIn = (answer: unknown) => (answer as { answers?: unknown[] }).answers?.length ?? 0;

async function main(): Promise<void> {
  const options = readOptions();
  const started = Date.now();
  const dir = mkdtempSync(join(os.tmpdir(), 'mra-bench-lookup-'));
  cleanups.add(() => rmSync(dir, { recursive: true, force: true }));
  const dev = async (adminId: string, name: string): Promise<DevAdministration> => {
    const certDir = join(dir, 'certs', adminId);
    createDevAdministration(adminId, certDir, {});
    return { adminId, name, certDir, host: '127.0.0.1', port: await freePort(), apiPort: await freePort() };
  };
  const pe = await dev('PE', 'SUNAT Peru');
  const cl = await dev('CL', 'Servicio Nacional de Aduanas Chile');
  const pePath = join(dir, 'PE.yaml');
  writeConfig(pePath, devConfig(pe, [cl], { mtls: false, dataDir: join(dir, 'data', 'PE') }));
  const signer = loadConfig(pePath, { env: { LOG_LEVEL: 'warn' } }).home.signers[0]!;
  const record = sampleRecord('PE', 0);
  const template = { record, jws: await signRecord(record, signer) };

  const clPath = join(dir, 'CL.yaml');
  const raw = devConfig(cl, [pe], { mtls: false, dataDir: join(dir, 'data', 'CL') });
  const sha = createHash('sha256').update(TOKEN).digest('hex');
  raw.apiClients = [{ id: 'bench-border', tokenSha256: sha, scopes: ['border'] }];
  // The default limit (600 a minute per client address) would answer most of the load with 429: the maximum.
  raw.server = { ...raw.server, rateLimitPerMinute: 1_000_000 };
  writeConfig(clPath, raw);
  const apiUrl = `http://127.0.0.1:${cl.apiPort}`;
  const reports = join(dir, 'reports');
  mkdirSync(reports);
  const nodeArgs = ['--report-on-signal', `--report-directory=${reports}`, '--report-compact'];

  const database = await createDatabase(options.pgUrl);
  cleanups.add(database.drop);
  // Ready, not only listening: the listeners open before the read model is loaded.
  const ready = (g: GatewayProcess, timeoutMs: number) =>
    waitReady(
      g.child,
      'gateway',
      async () => {
        const res = await request(`${apiUrl}/health/ready`);
        await res.body.dump();
        return res.statusCode === 200;
      },
      timeoutMs,
    );

  // 1. The same gateway on the empty database: migrates it, and gives the memory before any operator.
  const empty = spawnGateway(clPath, { databaseUrl: database.url, nodeArgs });
  cleanups.add(empty.stop);
  await ready(empty, 30_000);
  await new Promise((r) => setTimeout(r, 1_000));
  const emptyMemory = { rss: vmRssBytes(empty.child.pid), heap: await heapUsedBytes(empty.child, reports) };
  await undoNow(empty.stop);

  // 2. The operators, generated in the database.
  const fillStart = Date.now();
  let shown = 0;
  await fillOperators(database.url, options.operators, template, (done) => {
    if (done - shown >= options.operators / 10 || done === options.operators) {
      shown = done;
      console.error(
        `bench: ${fmt(done)} operators in the database (${((Date.now() - fillStart) / 1000).toFixed(0)} s)`,
      );
    }
  });
  const fillSeconds = (Date.now() - fillStart) / 1000;

  // 3. The gateway again, loading them into its read model before it listens.
  const loadStart = Date.now();
  const gateway = spawnGateway(clPath, {
    databaseUrl: database.url,
    nodeArgs,
    cpuProfDir: options.cpuProfDir,
  });
  cleanups.add(gateway.stop);
  await ready(gateway, 600_000);
  const loadSeconds = (Date.now() - loadStart) / 1000;
  await new Promise((r) => setTimeout(r, 1_000));
  const loadedMemory = {
    rss: vmRssBytes(gateway.child.pid),
    heap: await heapUsedBytes(gateway.child, reports),
  };

  // What the gateway spends with no request at all (timers, queues, resynchronisation): part of its CPU per lookup.
  // The start-time runs over every operator (retention, monitoring summaries) begin once the model is loaded;
  // they are waited out, so that neither this figure nor the lookups carry them.
  const idle = await settledIdleShare(gateway.child.pid);
  const idleShare = idle.settled;

  const hello = await startBareServer();
  const helloUrl = `${hello.url}/hello`;

  const randomOperator = () => 1 + Math.floor(Math.random() * options.operators);
  const lookupPath = () => `/api/v1/operators/PE/${aeoIdOf('PE', randomOperator())}`;
  const probe = await request(`${apiUrl}${lookupPath()}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const probeAnswer = (await probe.body.json()) as { operator?: unknown };
  if (probe.statusCode !== 200 || probeAnswer.operator === undefined)
    throw new Error('a lookup found no operator');

  // 4. Throughput: warm both up, then baseline and gateway twice each, alternating; the means are compared.
  const helloPid = hello.process.child.pid;
  const gatewayPid = gateway.child.pid;
  await cannon(helloUrl, 2, TOKEN);
  await cannon(apiUrl, 2, TOKEN, lookupPath);
  const runs = { hello: [] as Throughput[], lookup: [] as Throughput[] };
  for (let i = 0; i < 2; i += 1) {
    runs.hello.push(await cannon(helloUrl, options.seconds, TOKEN, undefined, helloPid));
    runs.lookup.push(await cannon(apiUrl, options.seconds, TOKEN, lookupPath, gatewayPid));
  }

  // 5. Batches of 3,000 identifiers, one at a time: two thirds by (issuer, aeoId), one third by TIN.
  const batchBody = () =>
    JSON.stringify({
      items: Array.from({ length: BATCH }, (_, i) => {
        const n = randomOperator();
        return i % 3 === 2
          ? { scheme: 'TIN', value: tinOf('PE', n), country: 'PE' }
          : { issuer: 'PE', aeoId: aeoIdOf('PE', n) };
      }),
    });
  const bodies = Array.from({ length: options.batches + 10 }, batchBody);
  // Full and compact alternate, each form first every other time, so both meet the same machine.
  const manifests = {
    full: [] as { ms: number; bytes: number }[],
    compact: [] as { ms: number; bytes: number }[],
  };
  const manifestUrl = `${apiUrl}/api/v1/operators/lookup`;
  for (const [i, body] of bodies.entries()) {
    const warmup = i < 10 ? 1 : 0;
    const forms = i % 2 === 0 ? (['full', 'compact'] as const) : (['compact', 'full'] as const);
    for (const form of forms) {
      const url = form === 'full' ? manifestUrl : `${manifestUrl}?form=compact`;
      manifests[form].push(...(await timeManifests(url, TOKEN, [body], warmup, answersIn, BATCH)));
    }
  }
  const afterRss = vmRssBytes(gateway.child.pid);
  await hello.stop();
  await undoNow(gateway.stop);
  await undoNow(database.drop);

  printReport({
    options,
    started,
    database,
    fillSeconds,
    loadSeconds,
    runs,
    idleShare,
    idleFirstShare: idle.first,
    idleWaitedMs: idle.waitedMs,
    manifests,
    memory: { empty: emptyMemory, loaded: loadedMemory, afterRss },
  });
  if ([...runs.lookup, ...runs.hello].some((t) => t.non2xx > 0 || t.errors > 0)) {
    console.error('bench: some requests failed');
    process.exitCode = 1;
  }
}

runBenchmark(main);

/**
 * The gateway's CPU share in windows of IDLE_MS until it no longer falls (under 3 % of a core, or not a fifth
 * below the window before), at most MAX_IDLE_WINDOWS: the first window's share and the last one's.
 */
async function settledIdleShare(
  pid: number | undefined,
): Promise<{ first: number; settled: number; waitedMs: number }> {
  const shares: number[] = [];
  for (let i = 0; i < MAX_IDLE_WINDOWS; i++) {
    const before = processCpuSeconds(pid);
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const share = (processCpuSeconds(pid) - before) / (IDLE_MS / 1000);
    const previous = shares.at(-1);
    shares.push(share);
    if (share < 0.03 || (previous !== undefined && share > previous * 0.8)) break;
  }
  return { first: shares[0]!, settled: shares.at(-1)!, waitedMs: shares.length * IDLE_MS };
}
