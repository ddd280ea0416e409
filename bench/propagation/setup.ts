/** The three administrations of the propagation benchmark, their databases, gateway processes and Redis. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { sampleRecord } from '../../src/cli/samples.ts';
import { type DevAdministration, devConfig, writeConfig } from '../../src/cli/setup.ts';
import { loadConfig } from '../../src/config/load.ts';
import { paceUnder } from '../../src/config/processes.ts';
import type { RawConfig } from '../../src/config/raw.ts';
import { createDevAdministration } from '../../src/crypto/dev-ca.ts';
import { signRecord } from '../../src/publishing/sign-record.ts';
import { cleanups } from '../lib/cleanup.ts';
import type { Watched } from '../lib/cpu.ts';
import { createDatabase, type Database } from '../lib/database.ts';
import { freePort, type GatewayProcess, spawnGateway, waitReady } from '../lib/gateway-process.ts';
import { NAMES, type Options, PUBLISHER, RECEIVERS } from './options.ts';

/** On a machine shared with a test suite three gateways starting at once take longer than one alone. */
const READY_TIMEOUT_MS = 120_000;

export interface Node {
  adminId: string;
  dev: DevAdministration;
  database: Database;
  process: GatewayProcess;
  url: string;
  apiUrl: string;
}

export interface Setup {
  dir: string;
  /** The publisher's national system (publish scope). */
  token: string;
  /** The receivers' border systems (border scope), the same token at each receiver. */
  borderToken: string;
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

export async function setUp(options: Options): Promise<Setup> {
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
  const borderToken = randomBytes(32).toString('base64url');
  const borderSha256 = createHash('sha256').update(borderToken, 'utf8').digest('hex');
  // Webhook secrets are sealed at rest under this key (docs/notifications.md, "Secrets at rest").
  const webhookKey = join(dir, 'webhook-secrets.key');
  writeFileSync(webhookKey, randomBytes(32).toString('base64'), { mode: 0o600 });
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
    const limit = options.partnerLimit;
    if (adminId === PUBLISHER) {
      raw.apiClients = [{ id: 'national-aeo', tokenSha256, scopes: ['publish'] }];
      if (limit !== undefined) raw.outbound.requestsPerMinute = paceUnder(limit);
    } else {
      if (limit !== undefined) raw.server = { ...raw.server, rateLimitPerMinute: limit };
      raw.apiClients = [{ id: 'border-system', tokenSha256: borderSha256, scopes: ['border'] }];
      // The border system's webhook receiver is the benchmark's own, on loopback over plain http.
      raw.notifications = {
        allowHttp: true,
        allowHosts: ['127.0.0.1'],
        allowNetworks: ['127.0.0.0/8'],
        secretKeys: [{ id: 'bench', key: { file: webhookKey } }],
      };
    }
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
    await waitReady(
      node.process.child,
      `${node.adminId} gateway`,
      async () => {
        const res = await fetch(`${node.apiUrl}/health/ready`);
        const body = (await res.json()) as { status?: string };
        return res.status === 200 && body.status === 'ready';
      },
      READY_TIMEOUT_MS,
    );
  }

  const signer = loadConfig(configPath(PUBLISHER), { env: { LOG_LEVEL: 'warn' } }).home.signers[0]!;
  const signed = await signRecord(sampleRecord(PUBLISHER, 0), signer);
  const spki = new Uint8Array(signer.chain[0]!.publicKey.export({ type: 'spki', format: 'der' }));
  return {
    dir,
    token,
    borderToken,
    publisher: nodes[0]!,
    receivers: nodes.slice(1),
    redis,
    redisVersion,
    redisPid,
    pgVersion,
    probe: { signed, spki },
  };
}

export function watched(setup: Setup): Watched[] {
  return [
    ...[setup.publisher, ...setup.receivers].map((n) => ({
      pid: n.process.child.pid,
      label: `${n.adminId} gateway`,
    })),
    { pid: setup.redisPid, label: 'redis' },
  ];
}

/** A client whose connection may be cut by the clean-up (DROP DATABASE … WITH (FORCE)) without crashing. */
export function connectClient(url: string): pg.Client {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  return client;
}

export const databases = (setup: Setup) => [setup.publisher, ...setup.receivers].map((n) => n.database);
