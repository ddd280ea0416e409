/**
 * Propagation (PRODUCT.md, "Speed"; issue 3, item 7): decisions published at one gateway until the partners
 * have applied them. Three development administrations, each gateway its own process with its own database:
 * PE publishes through its decisions API, CL and AR receive. Outbound delivery is push only (the relay,
 * BullMQ on the machine's Redis, `POST /mra/v1/records`); the feed pull is switched off.
 *
 *   npm run bench:propagation                       phase 1 at 100 decisions/s for 20 s, phase 2 100,000 records
 *   npm run bench:propagation -- --rate 50 --seconds 10 --records 10000
 *
 * Phase 1 (latency): `certify` decisions for new operators at a steady rate through
 * `POST {apiUrl}/api/v1/decisions`; for each decision and partner, the time from the API call to the moment
 * the partner's `operator_state` holds the record (its database is polled every --poll-ms). Baseline of the
 * same run: the same requests at the same rate to a bare fastify route that echoes the body, in a process of
 * its own.
 * Phase 2 (throughput): --records decisions in one bulk import (`POST {apiUrl}/api/v1/register/imports`, JSON
 * lines), then records a second until both partners hold all of them. Baseline of the same run: the raw ES256
 * verification rate of the machine (node:crypto, all cores), as in bench/inbound.ts.
 *
 * Options (argument, else environment variable):
 *   --rate R            BENCH_RATE             decisions a second in phase 1, 1 to 1000 (default 100)
 *   --seconds S         BENCH_SECONDS          duration of phase 1, 1 to 120 (default 20); 0 skips phase 1
 *   --records N         BENCH_RECORDS          records of phase 2, 0 to 200000 (default 100000); 0 skips it
 *   --max-minutes M     BENCH_MAX_MINUTES      phase 2 gives up after this long, 1 to 60 (default 15)
 *   --poll-ms P         BENCH_POLL_MS          how often the partners' databases are polled in phase 1,
 *                                              5 to 200 (default 20)
 *   --verify-seconds S  BENCH_VERIFY_SECONDS   duration of each raw verification measurement, 1 to 10 (default 3)
 *   --cpu-prof DIR      BENCH_CPU_PROF         write V8 CPU profiles of the three gateways into DIR
 *   BENCH_PG_URL        the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres); three
 *                       fresh databases are created on it and dropped at the end
 *   BENCH_REDIS_URL     the Redis server (default redis://127.0.0.1:6379); the gateways use key prefixes of
 *                       their own, and every key under them is deleted at the end
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Pool } from 'undici';
import { sampleRecord } from '../src/cli/samples.ts';
import { type DevAdministration, devConfig, writeConfig } from '../src/cli/setup.ts';
import { loadConfig } from '../src/config/load.ts';
import type { RawConfig } from '../src/config/raw.ts';
import { createDevAdministration } from '../src/crypto/dev-ca.ts';
import { signRecord } from '../src/outbound/sign-record.ts';
import { cleanups, undoAll, undoNow } from './lib/cleanup.ts';
import { type CpuSample, cpuDelta, cpuSample, type Watched } from './lib/cpu.ts';
import { createDatabase, type Database } from './lib/database.ts';
import { fmt } from './lib/format.ts';
import {
  freePort,
  type GatewayProcess,
  ROOT,
  spawnGateway,
  stoppable,
  waitReady,
} from './lib/gateway-process.ts';
import { measureRawVerify, type RawVerify } from './lib/raw-verify.ts';

const PUBLISHER = 'PE';
const RECEIVERS = ['CL', 'AR'] as const;
const NAMES: Record<string, string> = {
  PE: 'SUNAT Peru',
  CL: 'Servicio Nacional de Aduanas Chile',
  AR: 'Dirección General de Aduanas Argentina',
};
/** Requests of phase 1 in flight at most; a call that would exceed it waits (and the rate shows it). */
const MAX_IN_FLIGHT = 256;
/** After the last decision of phase 1, how long the partners get to apply the rest. */
const DRAIN_MS = 30_000;
const LATENCY_AIM_MS = 500;

interface Options {
  rate: number;
  seconds: number;
  records: number;
  maxMinutes: number;
  pollMs: number;
  verifySeconds: number;
  cpuProfDir: string | undefined;
  pgUrl: string;
  redisUrl: string;
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string' },
      seconds: { type: 'string' },
      records: { type: 'string' },
      'max-minutes': { type: 'string' },
      'poll-ms': { type: 'string' },
      'verify-seconds': { type: 'string' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(
      'npm run bench:propagation -- [--rate 1..1000] [--seconds 0..120] [--records 0..200000] ' +
        '[--max-minutes 1..60] [--poll-ms 5..200] [--verify-seconds 1..10] [--cpu-prof DIR]   ' +
        '(env: BENCH_PG_URL, BENCH_REDIS_URL, BENCH_*)',
    );
    process.exit(0);
  }
  const env = process.env;
  const int = (name: string, text: string | undefined, fallback: number, min: number, max: number) => {
    if (text === undefined || text === '') return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(`${name} must be an integer ${min}..${max}`);
    return n;
  };
  return {
    rate: int('rate', values.rate ?? env.BENCH_RATE, 100, 1, 1000),
    seconds: int('seconds', values.seconds ?? env.BENCH_SECONDS, 20, 0, 120),
    records: int('records', values.records ?? env.BENCH_RECORDS, 100_000, 0, 200_000),
    maxMinutes: int('max-minutes', values['max-minutes'] ?? env.BENCH_MAX_MINUTES, 15, 1, 60),
    pollMs: int('poll-ms', values['poll-ms'] ?? env.BENCH_POLL_MS, 20, 5, 200),
    verifySeconds: int('verify-seconds', values['verify-seconds'] ?? env.BENCH_VERIFY_SECONDS, 3, 1, 10),
    cpuProfDir: values['cpu-prof'] ?? env.BENCH_CPU_PROF,
    pgUrl: env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** Wall-clock milliseconds with sub-millisecond resolution; every process of the run shares this clock. */
const wallNow = () => performance.timeOrigin + performance.now();

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

interface Distribution {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

const ms = (n: number) => (Number.isNaN(n) ? 'n/a' : n < 10 ? n.toFixed(1) : fmt(n));
const showDistribution = (d: Distribution) =>
  `p50 ${ms(d.p50)} ms, p95 ${ms(d.p95)} ms, p99 ${ms(d.p99)} ms, max ${ms(d.max)} ms (${fmt(d.count)})`;

// ---------------------------------------------------------------------------------------------------------
// The three administrations, their databases and processes, and Redis.

interface Node {
  adminId: string;
  dev: DevAdministration;
  database: Database;
  process: GatewayProcess;
  url: string;
  apiUrl: string;
}

interface Setup {
  dir: string;
  token: string;
  publisher: Node;
  receivers: Node[];
  redis: Redis;
  redisVersion: string;
  redisPid: number | undefined;
  pgVersion: string;
  /** One signed record of the publisher, for the raw verification rate. */
  probe: { signed: string; spki: Uint8Array };
}

async function deleteKeys(redis: Redis, pattern: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

async function setUp(options: Options): Promise<Setup> {
  const dir = mkdtempSync(join(os.tmpdir(), 'mra-bench-propagation-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  cleanups.add(removeDir);

  const redis = new Redis(options.redisUrl, {
    lazyConnect: true,
    connectTimeout: 5_000,
    commandTimeout: 30_000,
    maxRetriesPerRequest: 1,
  });
  redis.on('error', () => {});
  await redis.connect();
  const keyPrefix = `mra-bench-${process.pid}-${randomBytes(4).toString('hex')}`;
  const dropKeys = async () => {
    await deleteKeys(redis, `${keyPrefix}-*`);
    redis.disconnect();
  };
  cleanups.add(dropKeys);
  const info = await redis.info('server');
  const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  const redisPidText = /process_id:(\d+)/.exec(info)?.[1];
  const redisHost = new URL(options.redisUrl).hostname;
  const redisPid =
    redisPidText !== undefined && ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(redisHost)
      ? Number(redisPidText)
      : undefined;

  const token = randomBytes(32).toString('base64url');
  const tokenSha256 = createHash('sha256').update(token, 'utf8').digest('hex');
  const ids = [PUBLISHER, ...RECEIVERS];
  const devs = new Map<string, DevAdministration>();
  for (const adminId of ids) {
    const certDir = join(dir, 'certs', adminId);
    createDevAdministration(adminId, certDir, {});
    devs.set(adminId, {
      adminId,
      name: NAMES[adminId]!,
      certDir,
      host: '127.0.0.1',
      port: await freePort(),
      apiPort: await freePort(),
    });
  }
  const configPath = (adminId: string) => join(dir, `${adminId}.yaml`);
  for (const adminId of ids) {
    const self = devs.get(adminId)!;
    // The publisher knows both receivers; each receiver knows the publisher only.
    const partners = adminId === PUBLISHER ? RECEIVERS.map((r) => devs.get(r)!) : [devs.get(PUBLISHER)!];
    const raw: RawConfig = devConfig(self, partners, { mtls: false, dataDir: join(dir, 'data', adminId) });
    raw.redis = { prefix: `${keyPrefix}-${adminId}` };
    // Push delivery only: no scheduled feed pull or reconciliation during the measurement.
    raw.outbound = { pullIntervalMs: 0, reconcileIntervalMs: 0 };
    if (adminId === PUBLISHER) raw.apiClients = [{ id: 'national-aeo', tokenSha256, scopes: ['publish'] }];
    writeConfig(configPath(adminId), raw);
  }

  let pgVersion = 'unknown';
  const nodes: Node[] = [];
  for (const adminId of ids) {
    const database = await createDatabase(options.pgUrl);
    cleanups.add(database.drop);
    pgVersion = database.serverVersion;
    if (options.cpuProfDir !== undefined) mkdirSync(join(options.cpuProfDir, adminId), { recursive: true });
    const gateway = spawnGateway(configPath(adminId), {
      databaseUrl: database.url,
      cpuProfDir: options.cpuProfDir === undefined ? undefined : join(options.cpuProfDir, adminId),
      env: { REDIS_URL: options.redisUrl },
    });
    cleanups.add(gateway.stop);
    const dev = devs.get(adminId)!;
    nodes.push({
      adminId,
      dev,
      database,
      process: gateway,
      url: `http://127.0.0.1:${dev.port}`,
      apiUrl: `http://127.0.0.1:${dev.apiPort}`,
    });
  }
  for (const node of nodes) {
    // Ready with Redis: delivery runs (and the receivers' databases are migrated).
    await waitReady(node.process.child, `${node.adminId} gateway`, async () => {
      const res = await fetch(`${node.apiUrl}/health/ready`);
      const body = (await res.json()) as { status?: string };
      return res.status === 200 && body.status === 'ready';
    });
  }

  const signer = loadConfig(configPath(PUBLISHER), { env: { LOG_LEVEL: 'warn' } }).home.signers[0]!;
  const signed = await signRecord(sampleRecord(PUBLISHER, 0), signer);
  const spki = new Uint8Array(signer.chain[0]!.publicKey.export({ type: 'spki', format: 'der' }));
  return {
    dir,
    token,
    publisher: nodes[0]!,
    receivers: nodes.slice(1),
    redis,
    redisVersion,
    redisPid,
    pgVersion,
    probe: { signed, spki },
  };
}

function watched(setup: Setup): Watched[] {
  return [
    ...[setup.publisher, ...setup.receivers].map((n) => ({
      pid: n.process.child.pid,
      label: `${n.adminId} gateway`,
    })),
    { pid: setup.redisPid, label: 'redis' },
  ];
}

/** A client whose connection may be cut by the clean-up (DROP DATABASE … WITH (FORCE)) without crashing. */
function connectClient(url: string): pg.Client {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  return client;
}

const databases = (setup: Setup) => [setup.publisher, ...setup.receivers].map((n) => n.database);

/** CPU seconds by process (threads summed), in the order of the sample, plus the rest of the machine. */
function cpuByProcess(before: CpuSample, after: CpuSample): [string, number][] {
  const merged = new Map<string, number>();
  for (const [name, seconds] of cpuDelta(before, after)) {
    const key = name.startsWith('postgresql')
      ? 'postgresql'
      : name.replace(/ (main thread|libuv pool|other)$/, '');
    merged.set(key, (merged.get(key) ?? 0) + seconds);
  }
  return [...merged];
}

const showCpu = (cpu: [string, number][], seconds: number) =>
  `${cpu.map(([name, t]) => `${name} ${t.toFixed(1)}`).join(', ')} (of ${(seconds * os.availableParallelism()).toFixed(1)})`;

// ---------------------------------------------------------------------------------------------------------
// Decisions.

function operator(aeoId: string, n: number) {
  return {
    identifiers: [
      { scheme: 'TIN', value: `${aeoId}T` },
      { scheme: 'EORI', value: `${aeoId}E` },
    ],
    name: `Exportadora Andina ${n} S.A.C.`,
    address: { street: `Av. Argentina ${100 + (n % 900)}`, city: 'Callao', postcode: '07001', country: 'PE' },
    roles: ['exporter', 'manufacturer'],
    enterpriseSize: n % 3 === 0 ? 'small' : 'large',
  };
}

function certify(aeoId: string, n: number) {
  return {
    decisionId: randomUUID(),
    aeoId,
    decision: 'certify',
    consent: true,
    programme: 'AEO-F',
    statusSince: '2025-03-01',
    certifiedOn: '2025-03-01',
    lastValidatedOn: '2026-03-01',
    operator: operator(aeoId, n),
  };
}

const latencyId = (i: number) => `PEL${String(i).padStart(9, '0')}`;
const throughputId = (i: number) => `PEB${String(i).padStart(9, '0')}`;

/**
 * Sends `count` requests at `rate` a second (open loop: a slow answer does not delay the next call, up to
 * MAX_IN_FLIGHT in flight) and returns when every answer is in. `call(i)` makes the i-th request.
 */
async function steady(
  count: number,
  rate: number,
  call: (i: number) => Promise<void>,
): Promise<{ seconds: number }> {
  const interval = 1000 / rate;
  const start = performance.now();
  const inFlight = new Set<Promise<void>>();
  const failures: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const wait = start + i * interval - performance.now();
    if (wait > 1) await sleep(wait);
    while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
    const p: Promise<void> = call(i)
      .catch((error: unknown) => {
        failures.push(error);
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  const lastCall = performance.now();
  await Promise.all(inFlight);
  if (failures.length > 0) {
    const first = failures[0];
    throw new Error(
      `${failures.length} of ${count} calls failed; first: ${first instanceof Error ? first.message : String(first)}`,
    );
  }
  // The achieved rate: calls made over the time from the first to the last (count - 1 intervals).
  return { seconds: count > 1 ? (lastCall - start) / 1000 : 0 };
}

// ---------------------------------------------------------------------------------------------------------
// Phase 1: latency at a steady rate.

interface PartnerLatency {
  adminId: string;
  /** Publish call to the first poll that found the record in operator_state (upper bound of applied). */
  applied: Distribution;
  /** Publish call to the receiver's inbound_record.received_at (its batch arrived; lower bound). */
  received: Distribution;
  /** The same time cut in stages, from the publisher's outbox row (PostgreSQL's clock, the same machine). */
  stages: { enqueued: Distribution; transfer: Distribution; apply: Distribution; settled: Distribution };
  missing: number;
}

interface LatencyRun {
  decisions: number;
  achievedRate: number;
  api: Distribution;
  partners: PartnerLatency[];
  cpu: [string, number][];
  seconds: number;
}

async function phaseLatency(setup: Setup, options: Options): Promise<LatencyRun> {
  const count = options.rate * options.seconds;
  const api = new Pool(setup.publisher.apiUrl, { connections: 64 });
  const apiTimes: number[] = [];
  const waiting = setup.receivers.map(() => new Map<string, number>());
  const applied = setup.receivers.map((): number[] => []);
  const received = setup.receivers.map((): number[] => []);
  /** Per partner and operator: publish call, received_at, first seen applied (wall-clock ms). */
  const times = setup.receivers.map(() => new Map<string, { t0: number; received: number; seen: number }>());
  let publishing = true;

  // One poller per partner: the records still awaited, in one query, every pollMs.
  const pollers = setup.receivers.map(async (node, r) => {
    const db = connectClient(node.database.url);
    await db.connect();
    try {
      const pending = waiting[r]!;
      for (;;) {
        const drained = !publishing && pending.size === 0;
        if (drained) return;
        const ids = [...pending.keys()];
        if (ids.length > 0) {
          const rows = (
            await db.query<{ aeo_id: string; received_ms: number }>(
              `SELECT s.aeo_id, extract(epoch FROM r.received_at)::float8 * 1000 AS received_ms
                 FROM operator_state s JOIN inbound_record r ON r.record_id = s.record_id
                WHERE s.issuer = $1 AND s.aeo_id = ANY($2::text[])`,
              [PUBLISHER, ids],
            )
          ).rows;
          // The rows were committed before the query's snapshot, which was taken before its answer came.
          const seen = wallNow();
          for (const row of rows) {
            const t0 = pending.get(row.aeo_id);
            if (t0 === undefined) continue;
            pending.delete(row.aeo_id);
            applied[r]!.push(seen - t0);
            received[r]!.push(row.received_ms - t0);
            times[r]!.set(row.aeo_id, { t0, received: row.received_ms, seen });
          }
        }
        await sleep(options.pollMs);
      }
    } finally {
      await db.end();
    }
  });

  const before = await cpuSample(watched(setup), databases(setup));
  const started = performance.now();
  let result: { seconds: number };
  try {
    result = await steady(count, options.rate, async (i) => {
      const aeoId = latencyId(i);
      const body = JSON.stringify(certify(aeoId, i));
      const t0 = wallNow();
      for (const pending of waiting) pending.set(aeoId, t0);
      const res = await api.request({
        path: '/api/v1/decisions',
        method: 'POST',
        headers: { authorization: `Bearer ${setup.token}`, 'content-type': 'application/json' },
        body,
      });
      const text = await res.body.text();
      apiTimes.push(wallNow() - t0);
      if (res.statusCode !== 201) {
        for (const pending of waiting) pending.delete(aeoId);
        throw new Error(`decision refused: HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
      }
      const partners = (JSON.parse(text) as { record: { partners: string[] } | null }).record?.partners ?? [];
      if (partners.join(',') !== [...RECEIVERS].sort().join(','))
        throw new Error(`decision for ${aeoId} published to [${partners.join(', ')}], not to CL and AR`);
    });
  } finally {
    publishing = false;
  }
  // The partners get DRAIN_MS after the last call to apply the rest; what is still missing then is reported.
  const drainUntil = performance.now() + DRAIN_MS;
  const drained = Promise.all(pollers);
  while (waiting.some((w) => w.size > 0) && performance.now() < drainUntil) await sleep(50);
  const missing = waiting.map((w) => w.size);
  for (const w of waiting) w.clear();
  await drained;
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuByProcess(before, await cpuSample(watched(setup), databases(setup)));
  await api.close();
  const stages = await latencyStages(setup, times);
  return {
    decisions: count,
    achievedRate: result.seconds > 0 ? (count - 1) / result.seconds : count,
    api: distribution(apiTimes),
    partners: setup.receivers.map((node, r) => ({
      adminId: node.adminId,
      applied: distribution(applied[r]!),
      received: distribution(received[r]!),
      stages: stages[r]!,
      missing: missing[r]!,
    })),
    cpu,
    seconds,
  };
}

/**
 * Where the time of phase 1 went, per partner, from the publisher's outbox rows: publish call → row claimed by
 * the relay (`enqueued_at`: the decision committed, the relay woke and claimed it), → batch received by the
 * partner (BullMQ job picked up, request sent; the partner's `received_at`), → record seen applied (verified,
 * committed, then found by the poll), and the receipt settled at the publisher (`delivered_at`) after the call.
 */
async function latencyStages(
  setup: Setup,
  times: readonly Map<string, { t0: number; received: number; seen: number }>[],
): Promise<PartnerLatency['stages'][]> {
  const db = connectClient(setup.publisher.database.url);
  await db.connect();
  try {
    const rows = (
      await db.query<{
        aeo_id: string;
        partner: string;
        enqueued_ms: number | null;
        delivered_ms: number | null;
      }>(
        `SELECT h.aeo_id, o.partner, extract(epoch FROM o.enqueued_at)::float8 * 1000 AS enqueued_ms,
                extract(epoch FROM o.delivered_at)::float8 * 1000 AS delivered_ms
           FROM outbox o JOIN home_record h ON h.seq = o.record_seq
          WHERE h.aeo_id LIKE 'PEL%'`,
      )
    ).rows;
    return setup.receivers.map((node, r) => {
      const enqueued: number[] = [];
      const transfer: number[] = [];
      const apply: number[] = [];
      const settled: number[] = [];
      for (const row of rows) {
        const t = row.partner === node.adminId ? times[r]!.get(row.aeo_id) : undefined;
        if (t === undefined || row.enqueued_ms === null) continue;
        enqueued.push(row.enqueued_ms - t.t0);
        transfer.push(t.received - row.enqueued_ms);
        apply.push(t.seen - t.received);
        if (row.delivered_ms !== null) settled.push(row.delivered_ms - t.t0);
      }
      return {
        enqueued: distribution(enqueued),
        transfer: distribution(transfer),
        apply: distribution(apply),
        settled: distribution(settled),
      };
    });
  } finally {
    await db.end();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Baseline of phase 1: the same requests at the same rate to a bare fastify route that echoes the body.

const ECHO_SERVER = `
import Fastify from 'fastify';
const app = Fastify({ logger: false, bodyLimit: 1048576 });
app.post('/echo', async (request) => request.body);
await app.listen({ host: '127.0.0.1', port: Number(process.env.ECHO_PORT) });
`;

async function baselineEcho(options: Options): Promise<{ latency: Distribution; achievedRate: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--input-type=module', '-e', ECHO_SERVER], {
    cwd: ROOT,
    env: { ...process.env, ECHO_PORT: String(port) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const echo = stoppable(child);
  cleanups.add(echo.stop);
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 64 });
  try {
    await waitReady(child, 'echo server', async () => {
      const res = await pool.request({ path: '/echo', method: 'POST', body: '{}', headers: json });
      await res.body.text();
      return res.statusCode === 200;
    });
    const count = options.rate * options.seconds;
    const times: number[] = [];
    const { seconds } = await steady(count, options.rate, async (i) => {
      const body = JSON.stringify(certify(latencyId(i), i));
      const t0 = wallNow();
      const res = await pool.request({ path: '/echo', method: 'POST', body, headers: json });
      await res.body.text();
      times.push(wallNow() - t0);
      if (res.statusCode !== 200) throw new Error(`echo: HTTP ${res.statusCode}`);
    });
    return { latency: distribution(times), achievedRate: seconds > 0 ? (count - 1) / seconds : count };
  } finally {
    await pool.close();
    await undoNow(echo.stop);
  }
}

const json = { 'content-type': 'application/json' };

// ---------------------------------------------------------------------------------------------------------
// Phase 2: throughput of one bulk import to both partners.

interface ThroughputRun {
  records: number;
  complete: boolean;
  /** From the start of the import to the moment both partners held every record (or the give-up). */
  seconds: number;
  importSeconds: number | undefined;
  import: { applied: number; published: number; rejected: number } | undefined;
  partners: { adminId: string; held: number; seconds: number | undefined }[];
  outbox: Record<string, number>;
  cpu: [string, number][];
}

function* importLines(records: number): Generator<Buffer> {
  const lines: string[] = [];
  for (let i = 0; i < records; i++) {
    lines.push(JSON.stringify(certify(throughputId(i), i)));
    if (lines.length === 1000 || i === records - 1) {
      yield Buffer.from(`${lines.join('\n')}\n`, 'utf8');
      lines.length = 0;
    }
  }
}

async function holds(db: pg.Client, aeoId: string): Promise<boolean> {
  const rows = (
    await db.query('SELECT 1 FROM operator_state WHERE issuer = $1 AND aeo_id = $2', [PUBLISHER, aeoId])
  ).rows;
  return rows.length > 0;
}

async function countHeld(db: pg.Client): Promise<number> {
  const [row] = (
    await db.query<{ n: string }>('SELECT count(*)::text AS n FROM operator_state WHERE issuer = $1', [
      PUBLISHER,
    ])
  ).rows;
  return Number(row?.n ?? 0);
}

async function phaseThroughput(setup: Setup, options: Options): Promise<ThroughputRun> {
  const records = options.records;
  const clients = await Promise.all(
    setup.receivers.map(async (node) => {
      const c = connectClient(node.database.url);
      await c.connect();
      return c;
    }),
  );
  const api = new Pool(setup.publisher.apiUrl, {
    connections: 1,
    headersTimeout: options.maxMinutes * 60_000,
    bodyTimeout: options.maxMinutes * 60_000,
  });
  const abort = new AbortController();
  try {
    const base = await Promise.all(clients.map(countHeld));
    const before = await cpuSample(watched(setup), databases(setup));
    const start = performance.now();
    const deadline = start + options.maxMinutes * 60_000;
    let importSeconds: number | undefined;
    let imported: ThroughputRun['import'];
    let importError: unknown;
    const importing = (async () => {
      const res = await api.request({
        path: '/api/v1/register/imports',
        method: 'POST',
        headers: { authorization: `Bearer ${setup.token}`, 'content-type': 'application/x-ndjson' },
        body: Readable.from(importLines(records)),
        signal: abort.signal,
      });
      const text = await res.body.text();
      if (res.statusCode !== 201) throw new Error(`import: HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
      const progress = JSON.parse(text) as { applied: number; published: number; rejected: number };
      imported = { applied: progress.applied, published: progress.published, rejected: progress.rejected };
      importSeconds = (performance.now() - start) / 1000;
    })().catch((error: unknown) => {
      importError = error;
    });

    const held = base.map(() => 0);
    const doneAt: (number | undefined)[] = base.map(() => undefined);
    let lastReport = start;
    while (doneAt.some((d) => d === undefined) && performance.now() < deadline && importError === undefined) {
      await sleep(250);
      const report = performance.now() - lastReport > 15_000;
      for (let r = 0; r < clients.length; r++) {
        if (doneAt[r] !== undefined) continue;
        // The last line of the import is committed last: until a partner holds it, a cheap look-up by key
        // says so, and the full count (which also costs the partner's database) is left for the reports.
        if (!report && !(await holds(clients[r]!, throughputId(records - 1)))) continue;
        held[r] = (await countHeld(clients[r]!)) - base[r]!;
        if (held[r]! >= records) doneAt[r] = (performance.now() - start) / 1000;
      }
      if (report) {
        lastReport = performance.now();
        console.error(
          `  phase 2, ${fmt((lastReport - start) / 1000)} s: ` +
            `${imported ? 'import done' : 'importing'}, ` +
            setup.receivers.map((n, r) => `${n.adminId} holds ${fmt(held[r]!)}`).join(', '),
        );
      }
    }
    const complete = doneAt.every((d) => d !== undefined);
    const seconds = complete ? Math.max(...(doneAt as number[])) : (performance.now() - start) / 1000;
    const cpu = cpuByProcess(before, await cpuSample(watched(setup), databases(setup)));
    // Given up in time: the import is cut off. An import that failed by itself fails the run.
    const gaveUp = !complete && importError === undefined;
    if (gaveUp) abort.abort();
    await importing;
    if (importError !== undefined && !gaveUp) throw importError;
    const pe = connectClient(setup.publisher.database.url);
    await pe.connect();
    let outbox: Record<string, number>;
    try {
      const rows = (
        await pe.query<{ state: string; n: string }>(
          'SELECT state, count(*)::text AS n FROM outbox GROUP BY state ORDER BY state',
        )
      ).rows;
      outbox = Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
    } finally {
      await pe.end();
    }
    return {
      records,
      complete,
      seconds,
      importSeconds,
      import: imported,
      partners: setup.receivers.map((n, r) => ({ adminId: n.adminId, held: held[r]!, seconds: doneAt[r] })),
      outbox,
      cpu,
    };
  } finally {
    abort.abort();
    await api.close().catch(() => {});
    await Promise.all(clients.map((c) => c.end()));
  }
}

// ---------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = readOptions();
  const cpus = os.cpus();
  const line = (label: string, value: string) => console.log(`${label.padEnd(34)} ${value}`);
  let failed = false;
  try {
    const setup = await setUp(options);
    console.log('MRA gateway propagation benchmark');
    line('machine', `${cpus.length} cores, ${cpus[0]?.model ?? 'unknown CPU'}`);
    line('memory', `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`);
    line('os', `${os.type()} ${os.release()} ${os.arch()}`);
    line('node', process.version);
    line('postgresql', `${setup.pgVersion} (one database per gateway)`);
    line('redis', `${setup.redisVersion} (key prefixes of the run, deleted at the end)`);
    line('transport', 'plain HTTP on loopback (127.0.0.1), no TLS');
    line(
      'gateways',
      `${PUBLISHER} publishes, ${RECEIVERS.join(' and ')} receive; one process each; push delivery only ` +
        '(feed pull off), default outbound settings (batches of up to 500, relay tick 1 s)',
    );
    const result: Record<string, number | boolean> = {};

    if (options.seconds > 0) {
      const echo = await baselineEcho(options);
      const run = await phaseLatency(setup, options);
      line(
        'phase 1 (latency)',
        `${fmt(run.decisions)} certify decisions at ${options.rate}/s for ${options.seconds} s through the ` +
          `decisions API; achieved ${run.achievedRate.toFixed(1)}/s`,
      );
      line('  decisions API answer', showDistribution(run.api));
      for (const p of run.partners) {
        const meets = p.applied.p99 < LATENCY_AIM_MS && p.missing === 0;
        line(
          `  applied at ${p.adminId}`,
          `${showDistribution(p.applied)}; aim p99 < ${LATENCY_AIM_MS} ms at 100/s: ${meets ? 'met' : 'NOT met'}` +
            (p.missing > 0 ? `; ${fmt(p.missing)} not applied within ${DRAIN_MS / 1000} s` : ''),
        );
        line(`  received at ${p.adminId}`, showDistribution(p.received));
        const pp = (d: Distribution) => `${ms(d.p50)} / ${ms(d.p99)}`;
        line(
          `  stages to ${p.adminId}, p50 / p99 ms`,
          `call to claimed by relay ${pp(p.stages.enqueued)}; claimed to received ${pp(p.stages.transfer)}; ` +
            `received to seen applied ${pp(p.stages.apply)}; call to receipt kept ${pp(p.stages.settled)}`,
        );
        result[`latency${p.adminId}P50Ms`] = Math.round(p.applied.p50);
        result[`latency${p.adminId}P99Ms`] = Math.round(p.applied.p99);
      }
      line(
        '  baseline: fastify echo',
        `${showDistribution(echo.latency)}; achieved ${echo.achievedRate.toFixed(1)}/s`,
      );
      const worstP99 = Math.max(...run.partners.map((p) => p.applied.p99));
      line(
        '  ratio p99 / echo p99',
        `${(worstP99 / echo.latency.p99).toFixed(1)} (worst partner's applied p99 over the echo round trip's p99)`,
      );
      line('  cpu s, phase 1', showCpu(run.cpu, run.seconds));
      result.achievedRate = Number(run.achievedRate.toFixed(1));
      result.echoP99Ms = Number(echo.latency.p99.toFixed(1));
      result.latencyAimMet = run.partners.every((p) => p.applied.p99 < LATENCY_AIM_MS && p.missing === 0);
      if (run.partners.some((p) => p.missing > 0)) failed = true;
    }

    if (options.records > 0) {
      const rawBefore: RawVerify = await measureRawVerify(
        setup.probe.signed,
        setup.probe.spki,
        options.verifySeconds,
      );
      const run = await phaseThroughput(setup, options);
      const rawAfter = await measureRawVerify(setup.probe.signed, setup.probe.spki, options.verifySeconds);
      const raw = (rawBefore.perSecond + rawAfter.perSecond) / 2;
      const perSecond = run.records / run.seconds;
      line(
        'phase 2 (throughput)',
        `${fmt(run.records)} certify decisions in one bulk import (JSON lines) to ${RECEIVERS.length} partners`,
      );
      line(
        '  import at PE',
        run.importSeconds === undefined || run.import === undefined
          ? 'did not finish'
          : `${fmt(run.records / run.importSeconds)} decisions/s: ${fmt(run.import.published)} published, ` +
              `${fmt(run.import.rejected)} rejected, in ${run.importSeconds.toFixed(1)} s`,
      );
      for (const p of run.partners) {
        line(
          `  held by ${p.adminId}`,
          p.seconds === undefined
            ? `${fmt(p.held)} of ${fmt(run.records)} after ${run.seconds.toFixed(0)} s (gave up)`
            : `all ${fmt(run.records)} after ${p.seconds.toFixed(1)} s`,
        );
      }
      line(
        '  records/s to both partners',
        run.complete
          ? `${fmt(perSecond)}: ${fmt(run.records)} records held by both partners ${run.seconds.toFixed(1)} s ` +
              `after the import started (${fmt(perSecond * RECEIVERS.length)} deliveries/s)`
          : `not measured: gave up after ${options.maxMinutes} min`,
      );
      line(
        '  outbox at PE',
        Object.entries(run.outbox)
          .map(([state, n]) => `${state} ${fmt(n)}`)
          .join(', '),
      );
      line(
        '  baseline: raw ES256 verify',
        `${fmt(raw)} /s on ${rawBefore.threads} worker threads (mean of ${fmt(rawBefore.perSecond)} before and ` +
          `${fmt(rawAfter.perSecond)} after phase 2, ${options.verifySeconds} s each)`,
      );
      if (run.complete) {
        line(
          '  ratio deliveries/s / verify/s',
          `${((perSecond * RECEIVERS.length) / raw).toFixed(3)} (each delivery is one signature verified at a partner)`,
        );
      }
      line('  cpu s, phase 2', showCpu(run.cpu, run.seconds));
      result.records = run.records;
      result.complete = run.complete;
      result.recordsPerSecond = run.complete ? Math.round(perSecond) : 0;
      result.rawVerifyPerSecond = Math.round(raw);
      if (!run.complete) failed = true;
    }
    console.log(`result ${JSON.stringify(result)}`);
  } finally {
    await undoAll();
  }
  if (failed) process.exitCode = 1;
}

main().catch(async (error: unknown) => {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
  await undoAll();
  process.exitCode = 1;
});
