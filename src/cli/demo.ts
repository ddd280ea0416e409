/**
 * The demo exchange: two administrations (PE and CL), each with its own two-level development PKI (root,
 * issuing CA, leaves), gateway and embedded store, talking over HTTPS with mutual TLS on loopback, each
 * knowing the other's root as anchor and its issuing CA as intermediate. Each national AEO system records
 * decisions at its gateway; they reach the partner signed, and each side keeps the other's signed receipts
 * and reconciles its snapshot (demo-decisions.ts). Then the protocol's edges by hand: a batch sent twice (duplicates) and a
 * forged record (rejected).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { loadConfig } from '../config/load.ts';
import { createDevAdministration } from '../crypto/dev-ca.ts';
import { type Gateway, startGateway } from '../gateway.ts';
import { createLogger } from '../log.ts';
import { createPartnerClient, type SendResult } from '../partner-client/client.ts';
import { signRecord } from '../publishing/sign-record.ts';
import { type DemoClient, exchangeDecisions } from './demo-decisions.ts';
import { sampleRecord } from './samples.ts';
import { type DevAdministration, devConfig, writeConfig } from './setup.ts';

export interface DemoOptions {
  dir: string;
  keepRunning: boolean;
  print: (line: string) => void;
}

export async function runDemo(options: DemoOptions): Promise<{ ok: boolean; gateways: Gateway[] }> {
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  // Each run starts from empty stores (certificates are kept): the hand-sent batches at the end would
  // otherwise show up as drift in the next run's reconciliation, as they should.
  rmSync(join(dir, 'data'), { recursive: true, force: true });
  const say = options.print;
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

  // The token of the demo's national AEO system and operator; only its SHA-256 goes into the configuration.
  const token = randomBytes(32).toString('base64url');
  // Webhook secrets are sealed at rest; the demo's key is made once, like its certificates.
  const webhookKey = join(dir, 'webhook-secrets.key');
  if (!existsSync(webhookKey)) {
    writeFileSync(webhookKey, randomBytes(32).toString('base64'), { mode: 0o600 });
  }
  const gateways: Gateway[] = [];
  for (const self of admins) {
    const path = join(dir, `${self.adminId}.yaml`);
    const others = admins.filter((a) => a !== self);
    const raw = devConfig(self, others, { mtls: true, dataDir: join(dir, 'data', self.adminId) });
    raw.apiClients = [
      {
        id: 'demo',
        tokenSha256: createHash('sha256').update(token).digest('hex'),
        scopes: ['publish', 'admin', 'monitoring'],
      },
    ];
    raw.redis = { prefix: `mra-demo-${self.adminId}`, commandTimeoutMs: 1_000 };
    raw.outbound = { backoffMs: 200, maxBackoffMs: 2_000, relayIntervalMs: 200, pullIntervalMs: 0 };
    // Border receivers of a demo left running (--keep-running) listen on this machine, over plain http.
    raw.notifications = {
      allowHttp: true,
      allowNetworks: ['127.0.0.0/8', '::1/128'],
      secretKeys: [{ id: 'demo', key: { file: webhookKey } }],
    };
    writeConfig(path, raw);
    const config = loadConfig(path);
    gateways.push(await startGateway(config, { log: createLogger('warn') }));
    const g = gateways.at(-1)!;
    say(`gateway ${self.adminId}: partners on ${g.url} (mTLS), API on ${g.apiUrl} (config ${path})`);
  }

  let ok = true;
  const [pe, cl] = gateways as [Gateway, Gateway];
  const clients: [DemoClient, DemoClient] = [
    { gateway: pe, token },
    { gateway: cl, token },
  ];
  ok = (await exchangeDecisions(clients[0], clients[1], say)) && ok;
  ok = (await exchangeDecisions(clients[1], clients[0], say)) && ok;
  ok = (await exchange(pe, cl, say)) && ok;
  ok = (await exchange(cl, pe, say)) && ok;
  for (const g of gateways) {
    const [held] = await g.store.query<{ operators: string; receipts: string }>(
      `SELECT (SELECT count(*) FROM operator_state)::text AS operators, (SELECT count(*) FROM inbound_receipt)::text AS receipts`,
    );
    say(
      `${g.config.home.adminId} holds ${held?.operators} foreign operators and has signed ${held?.receipts} receipts`,
    );
  }
  if (options.keepRunning) say(`API token of the demo (scopes publish, admin, monitoring): ${token}`);
  else await Promise.all(gateways.map((g) => g.close()));
  say(ok ? 'demo exchange: OK' : 'demo exchange: FAILED');
  return { ok, gateways };
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
