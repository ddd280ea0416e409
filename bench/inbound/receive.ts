/** The administrations, the receiving gateway and the timed posting of the inbound benchmark. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { sampleRecord } from '../../src/cli/samples.ts';
import { type DevAdministration, devConfig, writeConfig } from '../../src/cli/setup.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { GatewayConfig } from '../../src/config/types.ts';
import { createDevAdministration } from '../../src/crypto/dev-ca.ts';
import { createPartnerClient } from '../../src/partner-client/client.ts';
import { signRecord } from '../../src/publishing/sign-record.ts';
import { cleanups } from '../lib/cleanup.ts';
import { cpuDelta, cpuSample } from '../lib/cpu.ts';
import { createDatabase } from '../lib/database.ts';
import { freePort, type GatewayProcess, spawnGateway, waitReady } from '../lib/gateway-process.ts';
import { type Distribution, distribution } from '../lib/stats.ts';
import { BATCH_SIZE, type Options, type StoreKind, TIMED_PHASE_LIMIT_MS } from './options.ts';

export interface Admins {
  dir: string;
  pe: DevAdministration;
  cl: DevAdministration;
  sender: GatewayConfig;
}

export async function makeAdmins(mtls: boolean): Promise<Admins> {
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

let nextOperator = 1;

/** `count` batches of BATCH_SIZE records of distinct operators, signed with the sender's key (not timed). */
export async function signBatches(sender: GatewayConfig, count: number): Promise<string[][]> {
  const signer = sender.home.signers[0]!;
  const batches: string[][] = [];
  for (let b = 0; b < count; b++) {
    const records = Array.from({ length: BATCH_SIZE }, () => sampleRecord('PE', nextOperator++));
    batches.push(await Promise.all(records.map((r) => signRecord(r, signer))));
  }
  return batches;
}

export interface Posted {
  sent: number;
  accepted: number;
  seconds: number;
  latencyMs: Distribution;
}

/**
 * Posts `batches` with `concurrency` in flight, each lane taking the next batch when its answer is in, and no new
 * batch after TIMED_PHASE_LIMIT_MS. `send` answers the number of records the receiver took.
 */
export async function postInLanes(
  batches: readonly string[][],
  concurrency: number,
  send: (records: string[]) => Promise<number>,
): Promise<Posted> {
  let next = 0;
  let accepted = 0;
  let sent = 0;
  const latencies: number[] = [];
  const start = performance.now();
  const lane = async () => {
    while (next < batches.length && performance.now() - start < TIMED_PHASE_LIMIT_MS) {
      const batch = batches[next++]!;
      const t0 = performance.now();
      // Read `accepted` after the answer: `accepted += await …` would add to a value read before it.
      const n = await send(batch);
      latencies.push(performance.now() - t0);
      accepted += n;
      sent++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { sent, accepted, seconds: (performance.now() - start) / 1000, latencyMs: distribution(latencies) };
}

export interface InboundRun extends Posted {
  kind: StoreKind;
  records: number;
  perSecond: number;
  storedRows: number | undefined;
  /** CPU seconds by process and thread group over the timed phase. */
  cpu: [string, number][];
  /** CPU seconds of the gateway, the database and this process over the timed phase (NaN without /proc). */
  ownCpu: number;
}

export async function runInbound(
  admins: Admins,
  kind: StoreKind,
  options: Options,
  batches: { warmUp: string[]; timed: string[][] },
  pgVersion: { value: string },
): Promise<InboundRun> {
  const database = kind === 'postgres' ? await createDatabase(options.pgUrl) : undefined;
  if (database) {
    pgVersion.value = database.serverVersion;
    cleanups.add(database.drop);
  }
  const gateway = startReceiver(admins, kind, options, database?.url);
  cleanups.add(gateway.stop);
  const client = createPartnerClient('PE', admins.sender.partners[0]!, {
    tls: options.mtls ? admins.sender.server.tls : undefined,
    timeoutMs: 60_000,
  });
  try {
    await waitReady(gateway.child, 'receiving gateway', async () => {
      const { status } = await client.getJson('/.well-known/mra-gateway');
      return status === 200;
    });
    const send = async (records: string[]) => {
      const result = await client.sendRecords(records);
      if (!result.ok) throw new Error(`batch refused: HTTP ${result.status}: ${result.reason}`);
      return result.receipt.results.filter((r) => r.outcome === 'accepted').length;
    };
    const warmAccepted = await send(batches.warmUp);
    if (warmAccepted !== BATCH_SIZE) throw new Error(`warm-up: ${warmAccepted} of ${BATCH_SIZE} accepted`);

    const watched = [{ pid: gateway.child.pid, label: 'gateway' }];
    const cpuBefore = await cpuSample(watched, database ? [database] : []);
    const posted = await postInLanes(batches.timed, options.concurrency, send);
    const cpu = cpuDelta(cpuBefore, await cpuSample(watched, database ? [database] : []));

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
    return {
      ...posted,
      kind,
      records: posted.sent * BATCH_SIZE,
      perSecond: posted.accepted / posted.seconds,
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
