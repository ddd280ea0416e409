/**
 * The demo exchange: two administrations (PE and CL), each with its own two-level development PKI (root,
 * issuing CA, leaves), gateway and embedded store, talking over HTTPS with mutual TLS on loopback, each
 * knowing the other's root as anchor and its issuing CA as intermediate. Each national AEO system records
 * decisions at its gateway; they reach the partner signed, and each side keeps the other's signed receipts
 * and reconciles its snapshot (demo-decisions.ts). Each side's border system receives signed webhooks
 * (demo-webhooks.ts) and looks the partner's operators up (demo-border.ts). Then the protocol's edges by
 * hand: a batch sent twice (duplicates) and a forged record (rejected); last, the MRA's monitoring report.
 * With --keep-running both gateways stay up as a sandbox (demo-sandbox.ts); the command around a run, with its
 * Ctrl-C handler, is demo-command.ts.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { loadConfig } from '../config/load.ts';
import { createDevAdministration } from '../crypto/dev-ca.ts';
import { type Gateway, startGateway } from '../gateway.ts';
import { createLogger } from '../log.ts';
import { createPartnerClient, type SendResult } from '../partner-client/client.ts';
import { signRecord } from '../publishing/sign-record.ts';
import { alive } from '../store/lock-holder.ts';
import { apiClientsOf, type DemoClient, makeTokens } from './demo-api.ts';
import { borderLookups, monitoringReport } from './demo-border.ts';
import { exchangeDecisions, type Published } from './demo-decisions.ts';
import { demoPrefix, redisAddress, redisRunning, removeDemoKeys, removeStaleData } from './demo-leftovers.ts';
import { printSandbox, type SandboxFiles, writeSandboxFiles } from './demo-sandbox.ts';
import { type DemoReceiver, describeNotification, startReceiver } from './demo-webhooks.ts';
import { sampleRecord } from './samples.ts';
import { type DevAdministration, devConfig, writeConfig } from './setup.ts';

export interface DemoOptions {
  dir: string;
  keepRunning: boolean;
  print: (line: string) => void;
  /** Called once the run can be stopped, with what stops it (the command's Ctrl-C handler). */
  stoppable?: (stop: () => Promise<void>) => void;
}

export interface DemoRun {
  ok: boolean;
  gateways: Gateway[];
  /** Stops what a run left running (both gateways, the webhook receiver) and removes its data; idempotent. */
  stop(): Promise<void>;
}

/** How long the demo waits for the webhooks of the exchange before it goes on without them. */
const WEBHOOK_WAIT_MS = 15_000;

export async function runDemo(options: DemoOptions): Promise<DemoRun> {
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const say = options.print;
  const heading = (title: string) => say(`\n== ${title} ==`);
  // Each run starts from empty stores (certificates are kept): the hand-sent batches at the end would
  // otherwise show up as drift in the next run's reconciliation, as they should. A run's stores are its own
  // (data/<pid>), so a demo left running is not disturbed by another run beside it.
  const dataDir = join(dir, 'data', String(process.pid));
  removeStaleData(join(dir, 'data'));
  rmSync(dataDir, { recursive: true, force: true });

  heading('Two administrations, PE and CL');
  const admins: DevAdministration[] = [];
  for (const [adminId, name] of [
    ['PE', 'SUNAT Peru'],
    ['CL', 'Servicio Nacional de Aduanas Chile'],
  ] as const) {
    const certDir = join(dir, 'certs', adminId);
    // A second run reuses the certificates of the first, as partners would. A folder from before the two-level
    // PKI (ca.pem, no root.pem) is the demo's own and is replaced.
    if (!existsSync(join(certDir, 'root.pem'))) createDevAdministration(adminId, certDir, { force: true });
    admins.push({ adminId, name, certDir, host: '127.0.0.1', port: await freePort() });
  }
  say(`certificates: ${admins.map((a) => a.certDir).join(', ')}`);

  // Webhook secrets are sealed at rest; the demo's key is made once, like its certificates.
  const webhookKey = join(dir, 'webhook-secrets.key');
  if (!existsSync(webhookKey)) {
    writeFileSync(webhookKey, randomBytes(32).toString('base64'), { mode: 0o600 });
  }
  const clients: DemoClient[] = [];
  // Every gateway started, or starting: a stop closes those still starting too.
  const started: Promise<Gateway>[] = [];
  let receiver: DemoReceiver | undefined;
  let files: SandboxFiles | undefined;
  // Unknown until both gateways are up.
  let redisUp: boolean | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      files?.remove();
      await receiver?.close();
      await Promise.all(started.map((g) => g.then((gateway) => gateway.close()).catch(() => {})));
      rmSync(dataDir, { recursive: true, force: true });
      // The queues of this run go with it.
      const settings = clients[0]?.gateway.config.redis;
      if (settings !== undefined && redisUp !== false)
        await removeDemoKeys(settings, (pid) => pid === process.pid);
    })();
    return stopping;
  };
  options.stoppable?.(stop);
  try {
    for (const self of admins) {
      const path = join(dir, `${self.adminId}.yaml`);
      const others = admins.filter((a) => a !== self);
      const raw = devConfig(self, others, { mtls: true, dataDir: join(dataDir, self.adminId) });
      // One token per scope, as each of the administration's systems would hold its own.
      const tokens = makeTokens();
      raw.apiClients = apiClientsOf(tokens);
      raw.redis = { prefix: demoPrefix(self.adminId), commandTimeoutMs: 1_000 };
      raw.outbound = { backoffMs: 200, maxBackoffMs: 2_000, relayIntervalMs: 200, pullIntervalMs: 0 };
      // The border systems' webhook receiver listens on this machine, over plain http.
      raw.notifications = {
        allowHttp: true,
        allowHosts: ['127.0.0.1'],
        allowNetworks: ['127.0.0.0/8', '::1/128'],
        secretKeys: [{ id: 'demo', key: { file: webhookKey } }],
      };
      writeConfig(path, raw);
      // Errors only: the demo's own lines say what happens; a warning it provokes (the forged record) is no news.
      const starting = startGateway(loadConfig(path), { log: createLogger('error') });
      started.push(starting);
      const gateway = await starting;
      if (stopping !== undefined) throw new Error('the demo was stopped');
      clients.push({ gateway, tokens });
      say(
        `gateway ${self.adminId}: partners on ${gateway.url} (mTLS), API on ${gateway.apiUrl} (config ${path})`,
      );
    }
    const [pe, cl] = clients as [DemoClient, DemoClient];
    const redis = pe.gateway.config.redis;
    redisUp = await redisRunning(redis);
    // Runs killed outright left their queues behind; a run still going keeps its own.
    if (redisUp)
      await removeDemoKeys(redis, (pid) => pid === undefined || (pid !== process.pid && !alive(pid)));
    const redisNote = redisUp
      ? undefined
      : `webhooks wait for Redis, which is not running at ${redisAddress(redis.url)}; start it with \`docker compose up -d redis\` (or redis-server) and run the demo again: pushes and webhooks travel through it, and without it the partners pull each other's feed instead`;

    heading('Border systems subscribe to webhooks');
    receiver = await startReceiver();
    for (const c of clients) {
      await receiver.subscribe(c);
      say(
        `${c.gateway.config.home.adminId}'s border system subscribed a receiver on this machine (signed webhooks)`,
      );
    }

    heading('Decisions recorded, signed, pushed and acknowledged, both ways');
    const fromPe = await exchangeDecisions(pe, cl, say, redisUp);
    const fromCl = await exchangeDecisions(cl, pe, say, redisUp);
    let ok = fromPe.ok && fromCl.ok;

    heading('Webhooks received by the border systems');
    // Without Redis no webhook can arrive: said plainly, and not a failure of the exchange.
    if (redisNote === undefined) ok = (await showWebhooks(receiver, [fromPe, fromCl], say)) && ok;
    else say(redisNote);

    heading('Border lookups');
    ok = (await borderLookups(pe, { ...fromCl, adminId: 'CL' }, say)) && ok;
    ok = (await borderLookups(cl, { ...fromPe, adminId: 'PE' }, say)) && ok;

    heading("The protocol's edges, by hand");
    ok = (await exchange(pe.gateway, cl.gateway, say)) && ok;
    ok = (await exchange(cl.gateway, pe.gateway, say)) && ok;
    for (const { gateway: g } of clients) {
      const [held] = await g.store.query<{ operators: string; receipts: string }>(
        `SELECT (SELECT count(*) FROM operator_state)::text AS operators, (SELECT count(*) FROM inbound_receipt)::text AS receipts`,
      );
      say(
        `${g.config.home.adminId} holds ${held?.operators} foreign operators and has signed ${held?.receipts} receipts`,
      );
    }

    heading('Monitoring report');
    ok = (await monitoringReport(pe, 'CL', join(dir, 'report-PE-CL.html'), say)) && ok;

    if (options.keepRunning) {
      files = writeSandboxFiles(dir, clients);
      const example = fromCl.certified.find((id) => id !== fromCl.suspended)!;
      say('');
      say(ok ? 'demo exchange: OK' : 'demo exchange: FAILED');
      printSandbox(clients, files, { issuer: 'CL', aeoId: example }, say);
      receiver.live(say);
    } else {
      await stop();
      say('');
      say(ok ? 'demo exchange: OK' : 'demo exchange: FAILED');
    }
    return { ok, gateways: clients.map((c) => c.gateway), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Waits (bounded) for the notifications the exchange causes, then prints each. */
async function showWebhooks(
  receiver: DemoReceiver,
  published: readonly Published[],
  say: (line: string) => void,
): Promise<boolean> {
  // Each side's border system hears at least of the operators that became recognised there.
  const expected = published.reduce((n, p) => n + p.certified.length - 1, 0);
  const deadline = Date.now() + WEBHOOK_WAIT_MS;
  let seen = -1;
  while (Date.now() < deadline) {
    const count = receiver.counts.total;
    // Enough, and nothing new for a moment: the stream of this exchange is over.
    if (count >= expected && count === seen) break;
    seen = count;
    await new Promise((r) => setTimeout(r, 500));
  }
  for (const n of receiver.received) say(describeNotification(n));
  const { total, verified } = receiver.counts;
  if (total < expected) say(`only ${total} of ${expected} webhooks arrived (they travel through Redis)`);
  return total >= expected && verified === total;
}

async function exchange(from: Gateway, to: Gateway, say: (line: string) => void): Promise<boolean> {
  const home = from.config;
  const partner = home.partners.find((p) => p.adminId === to.config.home.adminId)!;
  const client = createPartnerClient(home.home.adminId, partner, { tls: home.server.tls });
  const signer = home.home.signers[0]!;
  const tag = `${home.home.adminId} → ${partner.adminId}`;
  try {
    const base = Math.floor(Math.random() * 1_000_000);
    const records = await Promise.all([
      signRecord(sampleRecord(home.home.adminId, base), signer),
      signRecord(
        sampleRecord(home.home.adminId, base + 1, { status: 'suspended', suspendedUntil: '2027-01-31' }),
        signer,
      ),
      signRecord(sampleRecord(home.home.adminId, base + 2, { programme: 'AEO-S' }), signer),
    ]);
    const first = await client.sendRecords(records);
    report(tag, 'batch of 3 signed records', first, say);
    const retry = await client.sendRecords(records);
    report(tag, 'the same batch again', retry, say);
    const forged = `${records[0]!.slice(0, -4)}AAAA`;
    const bad = await client.sendRecords([forged]);
    report(tag, 'a record with a forged signature', bad, say);
    return (
      first.ok &&
      first.delivered.every(Boolean) &&
      retry.ok &&
      retry.receipt.results.every((r) => r.outcome === 'duplicate') &&
      bad.ok &&
      bad.receipt.results[0]?.code === 'SIGNATURE_INVALID'
    );
  } finally {
    await client.close();
  }
}

function report(tag: string, what: string, result: SendResult, say: (line: string) => void): void {
  if (!result.ok) {
    say(`${tag}: ${what}: HTTP ${result.status} ${result.reason}`);
    return;
  }
  const outcomes = result.receipt.results
    .map((r) => (r.code ? `${r.outcome} ${r.code}` : r.outcome))
    .join(', ');
  say(
    `${tag}: ${what}: receipt ${result.receipt.receiptId} verified against ${result.receipt.receiver}'s anchors: ${outcomes}`,
  );
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}
