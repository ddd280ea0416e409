/**
 * The national register's bulk import against the machine's own signing rate (the speed aims of BENCHMARKS.md):
 * records signed, stored with their outbox rows and committed a second through `POST /api/v1/register/imports`
 * (JSON lines), divided by what node:crypto signs a second with ES256 on all cores. Both from the same run.
 *
 *   npm run bench:publishing                         100,000 operators
 *   npm run bench:publishing -- --operators 10000    the quick form
 *
 * Options (argument, else environment variable):
 *   --operators N     BENCH_OPERATORS     register lines (certify, consenting), 1,000 to 1,000,000 (default 100,000)
 *   --sign-seconds S  BENCH_SIGN_SECONDS  duration of each raw signing measurement, 1 to 10 (default 3)
 *   --cpu-prof DIR    BENCH_CPU_PROF      write a V8 CPU profile of the publishing gateway into DIR
 *   BENCH_PG_URL      the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres); a fresh database
 *                     is created for the run and dropped at the end
 *   BENCH_REDIS_URL   the Redis server (default redis://127.0.0.1:6379); the gateway uses a key prefix of the run,
 *                     deleted at the end
 *
 * The publishing gateway (PE) runs as its own process, with two partners (CL, AR) whose MRA covers every record,
 * so each record gets two outbox rows. The partners are not running: their deliveries fail and wait, as they
 * would while a partner is down; the relay's work is part of what is measured. The register is generated in
 * this process before the clock starts and streamed in one request.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { request } from 'undici';
import { sampleRecord } from '../src/cli/samples.ts';
import { type DevAdministration, devConfig, writeConfig } from '../src/cli/setup.ts';
import { loadConfig } from '../src/config/load.ts';
import type { RawConfig } from '../src/config/raw.ts';
import { createDevAdministration } from '../src/crypto/dev-ca.ts';
import { signRecord } from '../src/publishing/sign-record.ts';
import { AIMS, besideAim, meets } from './lib/aims.ts';
import { cleanups, runBenchmark, undoNow } from './lib/cleanup.ts';
import { cpuByProcess, cpuDelta, cpuSample, otherCpuShare, showCpu } from './lib/cpu.ts';
import { createDatabase } from './lib/database.ts';
import { fmt, line, printMachine, UNCONTROLLED } from './lib/format.ts';
import { freePort, spawnGateway, waitReady } from './lib/gateway-process.ts';
import { intOption, pgUrlOption } from './lib/options.ts';
import { measureRawSign } from './lib/raw-sign.ts';

const LINES_PER_WRITE = 500;

function readOptions() {
  const { values } = parseArgs({
    options: {
      operators: { type: 'string' },
      'sign-seconds': { type: 'string' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(
      'npm run bench:publishing -- [--operators N] [--sign-seconds S] [--cpu-prof DIR]   (env: BENCH_PG_URL, BENCH_REDIS_URL)',
    );
    process.exit(0);
  }
  const env = process.env;
  return {
    operators: intOption('operators', values.operators ?? env.BENCH_OPERATORS, 100_000, 1_000, 1_000_000),
    signSeconds: intOption('sign-seconds', values['sign-seconds'] ?? env.BENCH_SIGN_SECONDS, 3, 1, 10),
    cpuProfDir: values['cpu-prof'] ?? env.BENCH_CPU_PROF,
    pgUrl: pgUrlOption(),
    redisUrl: env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
  };
}

/** Line i of the register: a certify decision of a consenting operator, as the national AEO system sends it. */
function registerLine(i: number): string {
  const aeoId = `PEAEO${String(i).padStart(8, '0')}`;
  return `${JSON.stringify({
    aeoId,
    decision: 'certify',
    consent: true,
    programme: 'AEO-F',
    statusSince: '2025-03-01',
    certifiedOn: '2025-03-01',
    lastValidatedOn: '2026-03-01',
    operator: {
      identifiers: [
        { scheme: 'TIN', value: `20${String(i).padStart(9, '0')}` },
        { scheme: 'EORI', value: `PE${String(i).padStart(12, '0')}` },
      ],
      name: `Exportadora ${i} S.A.C.`,
      address: { street: 'Av. Argentina 123', city: 'Callao', postcode: '07001', country: 'PE' },
      roles: ['exporter', 'manufacturer'],
      enterpriseSize: 'small',
    },
  })}\n`;
}

async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  // Bounded: a run leaves a few thousand keys at most.
  for (let pass = 0; pass < 10_000; pass += 1) {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
    if (cursor === '0') return;
  }
}

async function main(): Promise<void> {
  const options = readOptions();
  const started = Date.now();
  const dir = mkdtempSync(join(os.tmpdir(), 'mra-bench-publishing-'));
  cleanups.add(() => rmSync(dir, { recursive: true, force: true }));
  const dev = async (adminId: string, name: string): Promise<DevAdministration> => {
    const certDir = join(dir, 'certs', adminId);
    createDevAdministration(adminId, certDir, {});
    return { adminId, name, certDir, host: '127.0.0.1', port: await freePort(), apiPort: await freePort() };
  };
  const pe = await dev('PE', 'SUNAT Peru');
  const partners = [
    await dev('CL', 'Servicio Nacional de Aduanas Chile'),
    await dev('AR', 'Dirección General de Aduanas'),
  ];

  const redis = new Redis(options.redisUrl, {
    lazyConnect: true,
    connectTimeout: 5_000,
    maxRetriesPerRequest: 1,
  });
  redis.on('error', () => {});
  await redis.connect();
  const keyPrefix = `mra-bench-${process.pid}-${randomBytes(4).toString('hex')}`;
  cleanups.add(async () => {
    await deleteKeys(redis, `${keyPrefix}*`);
    redis.disconnect();
  });

  const token = randomBytes(32).toString('base64url');
  const path = join(dir, 'PE.yaml');
  const raw: RawConfig = devConfig(pe, partners, { mtls: false, dataDir: join(dir, 'data', 'PE') });
  raw.apiClients = [
    {
      id: 'national-aeo',
      tokenSha256: createHash('sha256').update(token).digest('hex'),
      scopes: ['publish'],
    },
  ];
  raw.redis = { prefix: keyPrefix };
  raw.outbound = { pullIntervalMs: 0, reconcileIntervalMs: 0 };
  writeConfig(path, raw);
  const signer = loadConfig(path, { env: { LOG_LEVEL: 'warn' } }).home.signers[0]!;
  const probe = await signRecord(sampleRecord('PE', 0), signer);
  const pkcs8 = new Uint8Array(signer.key.export({ type: 'pkcs8', format: 'der' }));

  const database = await createDatabase(options.pgUrl);
  cleanups.add(database.drop);
  const gateway = spawnGateway(path, {
    databaseUrl: database.url,
    cpuProfDir: options.cpuProfDir,
    env: { REDIS_URL: options.redisUrl },
  });
  cleanups.add(gateway.stop);
  const apiUrl = `http://127.0.0.1:${pe.apiPort}`;
  await waitReady(gateway.child, 'gateway', async () => {
    const res = await request(`${apiUrl}/health/ready`);
    const body = (await res.body.json()) as { status?: string };
    return res.statusCode === 200 && body.status === 'ready';
  });

  // The register, generated before the clock starts: the client's share of the CPU is sending it.
  const writes: Buffer[] = [];
  for (let i = 0; i < options.operators; i += LINES_PER_WRITE) {
    let text = '';
    for (let j = i; j < Math.min(i + LINES_PER_WRITE, options.operators); j += 1) text += registerLine(j);
    writes.push(Buffer.from(text, 'utf8'));
  }
  const bytes = writes.reduce((sum, b) => sum + b.length, 0);

  const rawBefore = await measureRawSign(probe, pkcs8, options.signSeconds);
  const watched = [{ pid: gateway.child.pid, label: 'gateway' }];
  const cpuBefore = await cpuSample(watched, [database]);
  const t0 = performance.now();
  const res = await request(`${apiUrl}/api/v1/register/imports`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
    body: Readable.from(writes),
    headersTimeout: 900_000,
    bodyTimeout: 900_000,
  });
  const answer = await res.body.text();
  const seconds = (performance.now() - t0) / 1000;
  const cpuAfter = await cpuSample(watched, [database]);
  const rawAfter = await measureRawSign(probe, pkcs8, options.signSeconds);
  if (res.statusCode !== 201) throw new Error(`import: HTTP ${res.statusCode} ${answer.slice(0, 300)}`);
  const progress = JSON.parse(answer) as { published: number; rejected: number; state: string };

  // What was committed, counted in the database: records and their outbox rows.
  const client = new pg.Client({ connectionString: database.url });
  client.on('error', () => {});
  await client.connect();
  const [stored] = (
    await client.query<{ records: string; outbox: string }>(
      'SELECT (SELECT count(*) FROM home_record)::text AS records, (SELECT count(*) FROM outbox)::text AS outbox',
    )
  ).rows;
  await client.end();
  const records = Number(stored?.records);
  const outboxRows = Number(stored?.outbox);
  if (progress.published !== options.operators || records !== options.operators)
    throw new Error(`published ${progress.published}, stored ${records}, expected ${options.operators}`);
  if (outboxRows !== 2 * options.operators)
    throw new Error(`${outboxRows} outbox rows, expected ${2 * records}`);
  await undoNow(gateway.stop);

  const rawSign = {
    threads: rawBefore.threads,
    perSecond: (rawBefore.perSecond + rawAfter.perSecond) / 2,
    perCpuSecond: (rawBefore.perCpuSecond + rawAfter.perCpuSecond) / 2,
  };
  const cpu = cpuDelta(cpuBefore, cpuAfter);
  const byProcess = cpuByProcess(cpuBefore, cpuAfter);
  const ownCpu = byProcess.filter(([name]) => name !== 'other processes').reduce((sum, [, t]) => sum + t, 0);
  const perSecond = records / seconds;
  const perCpuSecond = records / ownCpu;
  const ratio = perSecond / rawSign.perSecond;
  const cpuRatio = perCpuSecond / rawSign.perCpuSecond;

  console.log('MRA gateway publishing benchmark (register import)');
  printMachine();
  line('postgresql', database.serverVersion);
  line(
    'register',
    `${fmt(options.operators)} certify lines, ${(bytes / 2 ** 20).toFixed(1)} MiB of JSON lines, 2 partners covering each`,
  );
  line('import', `${seconds.toFixed(1)} s, state ${progress.state}, rejected ${progress.rejected}`);
  line('stored', `${fmt(records)} records, ${fmt(outboxRows)} outbox rows`);
  line('records committed', `${fmt(perSecond)} /s`);
  line(
    `raw ES256 sign (${rawSign.threads} threads)`,
    `${fmt(rawSign.perSecond)} /s (before and after, mean)`,
  );
  line('ratio to raw sign', `${ratio.toFixed(3)} ${besideAim(AIMS.publishingRatio, ratio)}`);
  line('cpu seconds', showCpu(cpu, seconds));
  line('cpu by process', showCpu(byProcess, seconds));
  line('records per cpu second', `${fmt(perCpuSecond)} (gateway + postgresql + client)`);
  line('raw sign per cpu second', fmt(rawSign.perCpuSecond));
  line('ratio per cpu second', `${cpuRatio.toFixed(3)} ${besideAim(AIMS.publishingRatio, cpuRatio)}`);
  for (const [name, t] of cpu)
    if (name !== 'other processes') line(`  µs per record, ${name}`, ((t * 1e6) / records).toFixed(0));
  line('not controlled', UNCONTROLLED);
  line('wall time', `${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(
    `result ${JSON.stringify({
      operators: options.operators,
      recordsPerSecond: Math.round(perSecond),
      rawSignPerSecond: Math.round(rawSign.perSecond),
      ratio: Number(ratio.toFixed(3)),
      recordsPerCpuSecond: Math.round(perCpuSecond),
      rawSignPerCpuSecond: Math.round(rawSign.perCpuSecond),
      cpuRatio: Number(cpuRatio.toFixed(3)),
      met: meets(AIMS.publishingRatio, ratio) === true,
      otherCpuShare: otherCpuShare(cpu, seconds),
    })}`,
  );
}

runBenchmark(main);
