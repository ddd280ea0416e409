/**
 * The operators' commands on the store, as an operator runs them: real processes against real gateways,
 * PostgreSQL and Redis. Dead letters of both kinds are listed, replayed once, chained in the audit trail and
 * then delivered once; the monitoring report in its formats; an embedded folder held by a gateway refused.
 * Usage errors are parsed in this process (cli-ops-support.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/audit/verify.ts';
import { loadConfig } from '../../src/config/load.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/types.ts';
import type { TestAdmins } from '../support/admins.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { waitFor } from '../support/delivery.ts';
import { bearer, freePorts, makeLinkedAdmins, newAeoId, publish } from '../support/exchange.ts';
import { type FaultPartner, startFaultPartner } from '../support/fault-partner.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { startReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';
import { gateway, inProcess } from './cli-ops-support.ts';

const today = new Date().toISOString().slice(0, 10);

// Each command is a process of its own, seconds apiece on a loaded machine.
describe('dead letters and the report, on the store', { timeout: 300_000 }, () => {
  let admins: TestAdmins;
  const dbs = new Map<string, TestDatabase>();
  const stores = new Map<string, Store>();
  const gateways = new Map<string, TestGateway>();
  let proxy: FaultPartner;
  let receiver: WebhookReceiver;
  let subscriptionId: string;
  const borderToken = 'border-token-for-cli-ops-tests-0123456789';

  beforeAll(async () => {
    const [port] = await freePorts(1);
    const { createHash } = await import('node:crypto');
    admins = await makeLinkedAdmins(['PE', 'CL'], {
      redis: true,
      edit: (id, raw) => {
        raw.outbound = {
          ...raw.outbound,
          batchSize: 50,
          attempts: 3,
          backoffMs: 50,
          maxBackoffMs: 200,
          requestTimeoutMs: 2_000,
          relayIntervalMs: 100,
        };
        raw.apiClients = [
          ...(raw.apiClients ?? []),
          {
            id: 'border',
            tokenSha256: createHash('sha256').update(borderToken).digest('hex'),
            scopes: ['border'],
          },
        ];
        if (id === 'PE')
          raw.partners.find((p) => p.adminId === 'CL')!.endpoint = `http://127.0.0.1:${port}/mra/v1`;
      },
    });
    for (const id of ['PE', 'CL']) {
      const db = await createTestDatabase();
      dbs.set(id, db);
      stores.set(id, await openStore({ kind: 'postgres', databaseUrl: db.url }));
    }
    const start = async (id: string) =>
      gateways.set(id, await startTestGateway(admins.get(id).config, 'postgres', { store: stores.get(id)! }));
    await start('CL');
    await start('PE');
    proxy = await startFaultPartner(port!, () => gateways.get('CL')!.url);
    receiver = await startReceiver();
    const res = await gateways
      .get('PE')!
      .api.post('/api/v1/subscriptions', { url: receiver.url('/hook') }, { headers: bearer(borderToken) });
    expect(res.status, res.text).toBe(201);
    subscriptionId = (JSON.parse(res.text) as { id: string }).id;
  }, 180_000);
  afterAll(async () => {
    for (const g of gateways.values()) await g.close();
    for (const s of stores.values()) await s.close();
    for (const d of dbs.values()) await d.drop();
    await proxy?.close();
    await receiver?.stop();
    admins?.cleanup();
  });

  const pe = (...args: string[]) =>
    gateway([...args, '--config', admins.get('PE').configPath], { DATABASE_URL: dbs.get('PE')!.url });

  async function stateOf(table: 'outbox' | 'notification', id: number): Promise<string | undefined> {
    const [row] = await stores
      .get('PE')!
      .query<{ state: string }>(`SELECT state FROM ${table} WHERE id = $1`, [id]);
    return row?.state;
  }

  it('lists a delivery refused with 4xx and a webhook given up, replays each once, and they are delivered once', async () => {
    // PE's delivery to CL is refused by the partner; CL's record reaches PE, whose webhook receiver is down.
    proxy.script([{ kind: 'answer', status: 400, body: '{"code":"BODY_INVALID","detail":"no"}' }]);
    await receiver.stop();
    const { record } = await publish(gateways.get('PE')!, newAeoId('PE'));
    const foreign = newAeoId('CL');
    await publish(gateways.get('CL')!, foreign);
    const peStore = stores.get('PE')!;
    await waitFor('both dead letters', async () => {
      const [row] = await peStore.query<{ n: string }>(
        `SELECT ((SELECT count(*) FROM outbox WHERE state = 'dead')
                 + (SELECT count(*) FROM notification WHERE state = 'dead'))::text AS n`,
      );
      return row?.n === '2' ? true : undefined;
    });
    const run = await pe('dead-letters', 'list', '--json');
    expect(run.code, run.stderr).toBe(0);
    const dead = JSON.parse(run.stdout) as {
      deliveries: { id: number; recordId: string; partner: string; lastError: string }[];
      webhooks: { id: number; subscriptionId: string; aeoId: string; type: string }[];
    };
    expect(dead.deliveries).toHaveLength(1);
    expect(dead.webhooks).toHaveLength(1);
    expect(dead.deliveries[0]).toMatchObject({ recordId: record!.recordId, partner: 'CL' });
    expect(dead.deliveries[0]!.lastError).toMatch(/^HTTP 400/);
    expect(dead.webhooks[0]).toMatchObject({ subscriptionId, aeoId: foreign, type: 'benefits.started' });

    const table = await pe('dead-letters', 'list');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^deliveries dead: 1$/m);
    expect(table.stdout).toMatch(new RegExp(`^${dead.deliveries[0]!.id}\\s+CL\\s+${record!.recordId}`, 'm'));
    expect(table.stdout).toMatch(/^webhook notifications dead: 1$/m);
    const onlyWebhooks = await pe('dead-letters', 'list', '--kind', 'webhooks', '--json');
    expect(JSON.parse(onlyWebhooks.stdout)).toMatchObject({ deliveries: [] });

    // Usage: a replay must say which; ids need a kind.
    const usage = (...args: string[]) =>
      inProcess([...args, '--config', admins.get('PE').configPath]).then((r) => r.code);
    expect(await usage('dead-letters', 'replay')).toBe(2);
    expect(await usage('dead-letters', 'replay', '--ids', '1')).toBe(2);

    await receiver.start();
    const deliveryId = dead.deliveries[0]!.id;
    const webhookId = dead.webhooks[0]!.id;
    const replayed = await pe(
      'dead-letters',
      'replay',
      '--kind',
      'deliveries',
      '--ids',
      String(deliveryId),
      '--json',
    );
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(JSON.parse(replayed.stdout)).toEqual({ deliveries: [deliveryId], webhooks: [] });
    const hooks = await pe('dead-letters', 'replay', '--subscription', subscriptionId);
    expect(hooks.code, hooks.stderr).toBe(0);
    expect(hooks.stdout).toMatch(new RegExp(`webhook notifications replayed: 1 \\(ids ${webhookId}\\)`));

    // Picked up by the running gateway's relays, delivered once; a second replay finds nothing dead.
    await waitFor('the delivery delivered', async () =>
      (await stateOf('outbox', deliveryId)) === 'delivered' ? true : undefined,
    );
    await waitFor('the webhook delivered', async () =>
      (await stateOf('notification', webhookId)) === 'delivered' ? true : undefined,
    );
    const again = await pe('dead-letters', 'replay', '--partner', 'CL');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/nothing of the selection was dead/);
    await new Promise((r) => setTimeout(r, 500)); // a duplicate would have come by now
    const about = receiver.on('/hook').filter((r) => r.body.includes(foreign));
    expect(about).toHaveLength(1);
    const [{ n }] = (await stores
      .get('CL')!
      .query<{ n: string }>('SELECT count(*)::text AS n FROM inbound_record WHERE record_id = $1', [
        record!.recordId,
      ])) as [{ n: string }];
    expect(n).toBe('1');

    // Both replays are in the audit trail, which still verifies.
    const actions = await stores
      .get('PE')!
      .query<{ detail: { action: string } }>(
        "SELECT detail FROM audit_log WHERE kind = 'admin-action' AND actor = 'cli' ORDER BY seq",
      );
    expect(actions.map((a) => a.detail.action)).toEqual(['delivery-replay', 'webhook-replay']);
    expect((await verifyAudit(stores.get('PE')!)).broken).toBeUndefined();
  });

  it('report prints the monitoring report in JSON, CSV and HTML', async () => {
    const json = await pe('report', '--partner', 'CL', '--from', today, '--to', today);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      home: 'PE',
      partner: 'CL',
      period: { from: today, to: today },
    });
    const csv = await pe(
      'report',
      '--partner',
      'CL',
      '--from',
      today,
      '--to',
      today,
      '--format',
      'csv',
      '--lang',
      'es',
    );
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout.split('\n')[0]).toMatch(/^section,figure,key,value,label,definition/);
    const file = join(admins.dir, 'report.html');
    const html = await pe(
      'report',
      '--partner',
      'CL',
      '--from',
      today,
      '--to',
      today,
      '--format',
      'html',
      '--out',
      file,
    );
    expect(html.code, html.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/<html/);
    const unknown = await pe('report', '--partner', 'XX', '--from', today, '--to', today);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/NOT_FOUND: no partner XX/);
    expect((await inProcess(['report', '--partner', 'CL', '--from', today])).code).toBe(2);
  });

  it('refuses with STORE_LOCKED (2) an embedded data folder a running gateway holds, and opens it once free', async () => {
    const config = loadConfig(admins.get('PE').configPath, { env: {} });
    expect(config.storage.kind).toBe('embedded');
    const held = await openStore(config.storage);
    try {
      for (const args of [
        ['dead-letters', 'list'],
        ['report', '--partner', 'CL', '--from', today, '--to', today],
      ]) {
        const run = await gateway([...args, '--config', admins.get('PE').configPath]);
        expect(run.code).toBe(2);
        expect(run.stderr).toMatch(/^mra-gateway: STORE_LOCKED: /m);
      }
    } finally {
      await held.close();
    }
    // Released: the same command opens the embedded store itself.
    const run = await gateway(['dead-letters', 'list', '--config', admins.get('PE').configPath]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^deliveries dead: 0$/m);
  }, 600_000); // the embedded store is made and migrated by the child: minutes on a loaded machine
});
