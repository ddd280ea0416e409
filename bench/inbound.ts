/**
 * Inbound throughput against the machine's own signature-verification rate (PRODUCT.md, "Speed"): durable
 * records a second through `POST /mra/v1/records`, in batches of 500 ES256 records, divided by what
 * node:crypto verifies a second on all cores. Both figures come from the same run on the same machine.
 *
 *   npm run bench                                   19 timed batches, 3 in flight, PostgreSQL
 *   npm run bench -- --batches 10 --concurrency 4 --store both
 *
 * Options (argument, else environment variable):
 *   --batches N         BENCH_BATCHES          timed batches of 500 records, 1 to 19 (default 19); one more
 *                                              untimed warm-up batch is sent first, so at most 20 are posted
 *   --concurrency C     BENCH_CONCURRENCY      batches in flight, 1 to 8 (default 3)
 *   --store KIND        BENCH_STORE            postgres (default), embedded, or both
 *   --verify-seconds S  BENCH_VERIFY_SECONDS   duration of the raw verification measurement, 1 to 10 (default 3)
 *   --mtls              BENCH_MTLS=1           HTTPS with mutual TLS instead of plain HTTP (both on loopback)
 *   --cpu-prof DIR      BENCH_CPU_PROF         write a V8 CPU profile of the receiving gateway into DIR
 *   BENCH_PG_URL        the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres); a fresh
 *                       database is created on it for the run and dropped at the end
 *
 * The receiving gateway runs as its own process (`src/cli/main.ts serve`), as deployed; this process signs the
 * records beforehand (not timed), posts them with the sending administration's client and verifies every
 * receipt. Everything stays on loopback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { sampleRecord } from '../src/cli/samples.ts';
import { type DevAdministration, devConfig, writeConfig } from '../src/cli/setup.ts';
import { loadConfig } from '../src/config/load.ts';
import type { GatewayConfig } from '../src/config/types.ts';
import { createDevAdministration } from '../src/crypto/dev-ca.ts';
import { createPartnerClient } from '../src/outbound/partner-client.ts';
import { signRecord } from '../src/outbound/sign-record.ts';
import { cleanups } from './lib/cleanup.ts';
import { cpuDelta, cpuSample } from './lib/cpu.ts';
import { createDatabase } from './lib/database.ts';
import { fmt } from './lib/format.ts';
import { freePort, type GatewayProcess, spawnGateway, waitReady } from './lib/gateway-process.ts';
import { measureRawVerify } from './lib/raw-verify.ts';

const BATCH_SIZE = 500;
const MAX_POSTED_BATCHES = 20;
/** No new batch is posted after this much of the timed phase. */
const TIMED_PHASE_LIMIT_MS = 60_000;

type StoreKind = 'postgres' | 'embedded';

interface Options {
  batches: number;
  concurrency: number;
  stores: StoreKind[];
  verifySeconds: number;
  mtls: boolean;
  cpuProfDir: string | undefined;
  pgUrl: string;
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      batches: { type: 'string' },
      concurrency: { type: 'string' },
      store: { type: 'string' },
      'verify-seconds': { type: 'string' },
      mtls: { type: 'boolean' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(
      'npm run bench -- [--batches 1..19] [--concurrency 1..8] [--store postgres|embedded|both] ' +
        '[--verify-seconds 1..10] [--mtls] [--cpu-prof DIR]   (env: BENCH_PG_URL, BENCH_*)',
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
  const store = values.store ?? env.BENCH_STORE ?? 'postgres';
  if (!['postgres', 'embedded', 'both'].includes(store))
    throw new Error('store must be postgres, embedded or both');
  return {
    batches: int(
      'batches',
      values.batches ?? env.BENCH_BATCHES,
      MAX_POSTED_BATCHES - 1,
      1,
      MAX_POSTED_BATCHES - 1,
    ),
    concurrency: int('concurrency', values.concurrency ?? env.BENCH_CONCURRENCY, 3, 1, 8),
    stores: store === 'both' ? ['postgres', 'embedded'] : [store as StoreKind],
    verifySeconds: int('verify-seconds', values['verify-seconds'] ?? env.BENCH_VERIFY_SECONDS, 3, 1, 10),
    mtls: values.mtls ?? env.BENCH_MTLS === '1',
    cpuProfDir: values['cpu-prof'] ?? env.BENCH_CPU_PROF,
    pgUrl: env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  };
}

// ---------------------------------------------------------------------------------------------------------
// Administrations, database, gateway process.

interface Admins {
  dir: string;
  pe: DevAdministration;
  cl: DevAdministration;
}

async function makeAdmins(mtls: boolean): Promise<Admins & { sender: GatewayConfig }> {
  const dir = mkdtempSync(join(os.tmpdir(), 'mra-bench-'));
  const dev = async (adminId: string, name: string): Promise<DevAdministration> => {
    const certDir = join(dir, 'certs', adminId);
    createDevAdministration(adminId, certDir, {});
    return { adminId, name, certDir, host: '127.0.0.1', port: await freePort() };
  };
  const pe = await dev('PE', 'SUNAT Peru');
  const cl = await dev('CL', 'Servicio Nacional de Aduanas Chile');
  const path = join(dir, 'PE.yaml');
  writeConfig(path, devConfig(pe, [cl], { mtls, dataDir: join(dir, 'data', 'PE') }));
  return { dir, pe, cl, sender: loadConfig(path, { env: { LOG_LEVEL: 'warn' } }) };
}

function startReceiver(
  admins: Admins,
  kind: StoreKind,
  options: Options,
  databaseUrl: string | undefined,
): GatewayProcess {
  const { cl, pe, dir } = admins;
  const path = join(dir, `CL-${kind}.yaml`);
  writeConfig(path, devConfig(cl, [pe], { mtls: options.mtls, dataDir: join(dir, 'data', `CL-${kind}`) }));
  return spawnGateway(path, { databaseUrl, cpuProfDir: options.cpuProfDir });
}

// ---------------------------------------------------------------------------------------------------------
// The inbound measurement.

let nextOperator = 1;

async function signBatches(sender: GatewayConfig, count: number): Promise<string[][]> {
  const signer = sender.home.signers[0]!;
  const batches: string[][] = [];
  for (let b = 0; b < count; b++) {
    const records = Array.from({ length: BATCH_SIZE }, () => sampleRecord('PE', nextOperator++));
    batches.push(await Promise.all(records.map((r) => signRecord(r, signer))));
  }
  return batches;
}

interface InboundRun {
  kind: StoreKind;
  batches: number;
  records: number;
  accepted: number;
  seconds: number;
  perSecond: number;
  latencyMs: { p50: number; max: number };
  storedRows: number | undefined;
  /** CPU seconds by process and thread group over the timed phase. */
  cpu: [string, number][];
  /** CPU seconds of the gateway, the database and this process over the timed phase (NaN without /proc). */
  ownCpu: number;
}

async function runInbound(
  admins: Admins & { sender: GatewayConfig },
  kind: StoreKind,
  options: Options,
  pgVersion: { value: string },
): Promise<InboundRun> {
  const database = kind === 'postgres' ? await createDatabase(options.pgUrl) : undefined;
  if (database) {
    pgVersion.value = database.serverVersion;
    cleanups.add(database.drop);
  }
  const gateway = startReceiver(admins, kind, options, database?.url);
  cleanups.add(gateway.stop);
  const partner = admins.sender.partners[0]!;
  const client = createPartnerClient('PE', partner, {
    tls: options.mtls ? admins.sender.server.tls : undefined,
    timeoutMs: 60_000,
  });
  try {
    const [warmUp, ...timed] = await signBatches(admins.sender, options.batches + 1);
    await waitReady(gateway.child, 'receiving gateway', async () => {
      const { status } = await client.getJson('/.well-known/mra-gateway');
      return status === 200;
    });

    const send = async (records: string[]) => {
      const result = await client.sendRecords(records);
      if (!result.ok) throw new Error(`batch refused: HTTP ${result.status}: ${result.reason}`);
      return result.receipt.results.filter((r) => r.outcome === 'accepted').length;
    };
    const warmAccepted = await send(warmUp!);
    if (warmAccepted !== BATCH_SIZE) throw new Error(`warm-up: ${warmAccepted} of ${BATCH_SIZE} accepted`);

    let next = 0;
    let accepted = 0;
    let sent = 0;
    const latencies: number[] = [];
    const cpuBefore = await cpuSample(
      [{ pid: gateway.child.pid, label: 'gateway' }],
      database ? [database] : [],
    );
    const start = performance.now();
    const lane = async () => {
      while (next < timed.length && performance.now() - start < TIMED_PHASE_LIMIT_MS) {
        const batch = timed[next++]!;
        const t0 = performance.now();
        const n = await send(batch);
        latencies.push(performance.now() - t0);
        accepted += n;
        sent++;
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, lane));
    const seconds = (performance.now() - start) / 1000;
    const cpu = cpuDelta(
      cpuBefore,
      await cpuSample([{ pid: gateway.child.pid, label: 'gateway' }], database ? [database] : []),
    );

    let storedRows: number | undefined;
    if (database) {
      const c = new pg.Client({ connectionString: database.url });
      await c.connect();
      try {
        const [row] = (await c.query<{ n: string }>('SELECT count(*)::text AS n FROM inbound_record')).rows;
        storedRows = Number(row?.n);
      } finally {
        await c.end();
      }
    }
    latencies.sort((a, b) => a - b);
    return {
      kind,
      batches: sent,
      records: sent * BATCH_SIZE,
      accepted,
      seconds,
      perSecond: accepted / seconds,
      latencyMs: { p50: latencies[Math.floor(latencies.length / 2)]!, max: latencies.at(-1)! },
      storedRows,
      cpu,
      ownCpu:
        cpu.length === 0
          ? Number.NaN
          : cpu.filter(([name]) => name !== 'other processes').reduce((sum, [, t]) => sum + t, 0),
    };
  } finally {
    await client.close();
    await gateway.stop();
    cleanups.delete(gateway.stop);
    if (database) {
      await database.drop();
      cleanups.delete(database.drop);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = readOptions();
  const cpus = os.cpus();
  const pgVersion = { value: 'not used' };
  const admins = await makeAdmins(options.mtls);
  const removeDir = () => rmSync(admins.dir, { recursive: true, force: true });
  cleanups.add(removeDir);
  try {
    const signer = admins.sender.home.signers[0]!;
    const probe = await signRecord(sampleRecord('PE', 0), signer);
    const spki = new Uint8Array(signer.chain[0]!.publicKey.export({ type: 'spki', format: 'der' }));
    // Measured before and after the inbound runs, and averaged, so that a change in the machine's load during
    // the run moves both sides of the ratio alike.
    const rawBefore = await measureRawVerify(probe, spki, options.verifySeconds);
    const runs: InboundRun[] = [];
    for (const kind of options.stores) runs.push(await runInbound(admins, kind, options, pgVersion));
    const rawAfter = await measureRawVerify(probe, spki, options.verifySeconds);
    const raw = {
      threads: rawBefore.threads,
      perSecond: (rawBefore.perSecond + rawAfter.perSecond) / 2,
      perCpuSecond: (rawBefore.perCpuSecond + rawAfter.perCpuSecond) / 2,
    };

    const line = (label: string, value: string) => console.log(`${label.padEnd(34)} ${value}`);
    const cpuRatio = (r: InboundRun) => r.accepted / r.ownCpu / raw.perCpuSecond;
    console.log('MRA gateway inbound benchmark');
    line('machine', `${cpus.length} cores, ${cpus[0]?.model ?? 'unknown CPU'}`);
    line('memory', `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`);
    line('os', `${os.type()} ${os.release()} ${os.arch()}`);
    line('node', process.version);
    line('postgresql', pgVersion.value);
    line(
      'transport',
      options.mtls
        ? 'HTTPS with mutual TLS on loopback (127.0.0.1)'
        : 'plain HTTP on loopback (127.0.0.1), no TLS',
    );
    line(
      'workload',
      `${options.batches} timed batches of ${BATCH_SIZE} ES256 records (distinct operators) after 1 warm-up batch, ` +
        `${options.concurrency} in flight`,
    );
    line(
      'raw ES256 verify (node:crypto)',
      `${fmt(raw.perSecond)} /s on ${raw.threads} worker threads (mean of ${fmt(rawBefore.perSecond)} before and ` +
        `${fmt(rawAfter.perSecond)} after the inbound runs, ${options.verifySeconds} s each)`,
    );
    for (const r of runs) {
      const stored =
        r.storedRows === undefined ? '' : `, ${fmt(r.storedRows)} rows in inbound_record with the warm-up`;
      line(
        `inbound durable records (${r.kind})`,
        `${fmt(r.perSecond)} /s: ${fmt(r.accepted)} accepted of ${fmt(r.records)} in ${r.seconds.toFixed(2)} s` +
          `${stored}; batch latency p50 ${fmt(r.latencyMs.p50)} ms, max ${fmt(r.latencyMs.max)} ms`,
      );
      line(`ratio (${r.kind})`, `${(r.perSecond / raw.perSecond).toFixed(3)} (target >= 0.333)`);
      if (r.cpu.length > 0) {
        const others = r.cpu.find(([name]) => name === 'other processes')?.[1] ?? 0;
        const own = r.cpu.filter(([name]) => name !== 'other processes');
        line(
          `  cpu s, timed phase (${r.kind})`,
          `${own.map(([name, t]) => `${name} ${t.toFixed(2)}`).join(', ')}; together ${r.ownCpu.toFixed(2)}, ` +
            `other processes on the machine ${others.toFixed(2)}, of ${(r.seconds * cpus.length).toFixed(2)}`,
        );
        line(
          `  ratio per cpu second (${r.kind})`,
          `${cpuRatio(r).toFixed(3)}: ${fmt(r.accepted / r.ownCpu)} records per cpu second of the processes above ` +
            `against ${fmt(raw.perCpuSecond)} verifications per cpu second (not moved by other load)`,
        );
        const database = r.cpu
          .filter(([name]) => name.startsWith('postgresql'))
          .reduce((sum, [, t]) => sum + t, 0);
        if (database > 0) {
          const without = r.accepted / (r.ownCpu - database) / raw.perCpuSecond;
          line(
            `  same, database cpu left out`,
            `${without.toFixed(3)} (as if PostgreSQL ran on another machine)`,
          );
        }
      }
    }
    console.log(
      `result ${JSON.stringify({
        rawVerifyPerSecond: Math.round(raw.perSecond),
        ...Object.fromEntries(
          runs.flatMap((r) => [
            [`${r.kind}RecordsPerSecond`, Math.round(r.perSecond)],
            [`${r.kind}Ratio`, Number((r.perSecond / raw.perSecond).toFixed(3))],
            [`${r.kind}CpuRatio`, Number(cpuRatio(r).toFixed(3))],
          ]),
        ),
      })}`,
    );
    const short = runs.filter(
      (r) =>
        r.accepted !== r.records || (r.storedRows ?? r.accepted + BATCH_SIZE) !== r.accepted + BATCH_SIZE,
    );
    if (short.length > 0) {
      console.error(`not every record was accepted and stored: ${short.map((r) => r.kind).join(', ')}`);
      process.exitCode = 1;
    }
  } finally {
    removeDir();
    cleanups.delete(removeDir);
  }
}

main().catch((error: unknown) => {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
