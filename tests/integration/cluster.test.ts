/**
 * `serve --processes 2` (src/cluster): PE's gateway as a cluster of two worker processes sharing both ports on
 * one PostgreSQL database and Redis prefix, CL a real gateway in this process, a border webhook receiver. Both
 * workers answer (the pid in each request's log line); every decision is delivered once, every partner record
 * notified once; a lookup after a partner's batch answers alike from either worker; a worker killed with
 * SIGKILL is replaced and nothing acknowledged is lost; SIGTERM to the primary stops all, exit 0.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/store/postgres.ts';
import type { Store } from '../../src/store/types.ts';
import type { TestAdmins } from '../support/admins.ts';
import {
  type ClusterGateway,
  onOwnConnection,
  pidOfRequest,
  running,
  spawnCluster,
} from '../support/cluster-gateway.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { heldAt, outboxOf, waitFor } from '../support/delivery.ts';
import { API_TOKENS, bearer, freePorts, makeLinkedAdmins, newAeoId } from '../support/exchange.ts';
import { certifyDecision, postDecisionUntilAcknowledged } from '../support/fault-replicas.ts';
import { notificationsSettled } from '../support/fault-world.ts';
import { httpRequest, postTo, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { startReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

const BORDER = randomBytes(32).toString('base64url');
const FAST = { batchSize: 50, attempts: 12, backoffMs: 200, maxBackoffMs: 2_000, relayIntervalMs: 200 };

let db: TestDatabase;
let admins: TestAdmins;
let pe: ClusterGateway;
let peStore: Store;
let cl: TestGateway;
let receiver: WebhookReceiver;
let apiUrl: string;
let metricsUrl: string;
const peRecords: string[] = [];
const peAeoIds: string[] = [];
const clAeoIds: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  const [apiPort, metricsPort] = (await freePorts(2)) as [number, number];
  admins = await makeLinkedAdmins(['PE', 'CL'], {
    redis: true,
    edit: (id, raw) => {
      raw.outbound = { ...raw.outbound, ...FAST };
      if (id !== 'PE') return;
      // The partner listener keeps the port CL was told.
      raw.api = { ...raw.api, port: apiPort };
      raw.metrics = { port: metricsPort };
      const sha = createHash('sha256').update(BORDER).digest('hex');
      raw.apiClients = [...(raw.apiClients ?? []), { id: 'border', tokenSha256: sha, scopes: ['border'] }];
    },
  });
  apiUrl = `http://127.0.0.1:${apiPort}`;
  metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  pe = spawnCluster({ configPath: admins.get('PE').configPath, databaseUrl: db.url, processes: 2 });
  await pe.waitLog('both workers listening', (l) => l.msg === 'gateway processes listening');
  cl = await startTestGateway(admins.get('CL').config, 'postgres');
  receiver = await startReceiver();
  const sub = await postTo(
    `${apiUrl}/api/v1/subscriptions`,
    { url: receiver.url('/border') },
    {
      headers: bearer(BORDER),
    },
  );
  if (sub.status !== 201) throw new Error(`subscription refused: ${sub.status} ${sub.text}`);
  peStore = openPostgres({ connectionString: db.url });
}, 180_000);

afterAll(async () => {
  await pe?.stop();
  await cl?.close();
  await receiver?.stop();
  await peStore?.close();
  await db?.drop();
  admins?.cleanup();
});

async function decisions(n: number): Promise<void> {
  for (let i = 0; i < n; i += 1) {
    const aeoId = newAeoId('PE');
    // A connection of its own each: the primary hands them to the workers in turn.
    const posted = await postDecisionUntilAcknowledged(apiUrl, certifyDecision(aeoId, 'PE'));
    peAeoIds.push(aeoId);
    peRecords.push(posted.recordId);
  }
}

async function allDeliveredOnce(): Promise<void> {
  await waitFor(
    `${peRecords.length} PE outbox rows delivered`,
    async () => {
      const rows = await outboxOf(peStore, 'CL');
      return rows.length === peRecords.length && rows.every((r) => r.state === 'delivered')
        ? true
        : undefined;
    },
    120_000,
    100,
  );
  const held = await heldAt(cl.store, 'PE', peAeoIds);
  expect(held.evidence.size).toBe(peRecords.length);
  expect([...held.evidence.values()].every((n) => n === 1)).toBe(true);
}

/** A lookup of CL's operator on a connection of its own, with the pid of the worker that answered. */
async function lookupOnce(aeoId: string, probeId: string) {
  const text = await onOwnConnection(apiUrl, probeId, async (client) => {
    const res = await client.request({
      method: 'GET',
      path: `/api/v1/operators/CL/${aeoId}`,
      headers: bearer(BORDER),
    });
    const body = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`lookup answered ${res.statusCode}: ${body}`);
    return body;
  });
  const answer = JSON.parse(text) as { recognised: boolean; operator?: unknown; evidence?: unknown };
  return {
    pid: await waitFor('the probe log line', async () => pidOfRequest(pe.logs, probeId), 10_000),
    answer,
  };
}

describe('serve --processes 2', () => {
  it('C1 two workers answer, each log line names its worker; decisions delivered once', async () => {
    const workers = pe.workerPids();
    expect(workers).toHaveLength(2);
    const pids = new Set<number>();
    for (let i = 0; i < 6; i += 1) {
      const id = `c1-probe-${i}`;
      await onOwnConnection(apiUrl, id, async () => undefined);
      pids.add(await waitFor('probe logged', async () => pidOfRequest(pe.logs, id), 10_000));
    }
    expect([...pids].sort()).toEqual([...workers].sort());
    const slots = new Set(pe.logs.filter((l) => pids.has(l.pid as number)).map((l) => l.worker));
    expect([...slots].sort()).toEqual([1, 2]);
    await decisions(20);
    await allDeliveredOnce();
    // Each worker counted the decisions it took; every scrape answers their sum, whichever worker takes it.
    const published = (text: string) => Number(/^mra_records_published_total (\d+)$/m.exec(text)?.[1]);
    const scrapers = new Set<number>();
    for (let i = 0; i < 4; i += 1) {
      const id = `c1-metrics-${i}`;
      const text = await onOwnConnection(apiUrl, id, async (client) => {
        const res = await client.request({
          method: 'GET',
          path: '/metrics',
          headers: bearer(API_TOKENS.monitoring),
        });
        return res.body.text();
      });
      expect(published(text)).toBe(20);
      scrapers.add(await waitFor('probe logged', async () => pidOfRequest(pe.logs, id), 10_000));
    }
    expect(scrapers.size).toBe(2);
    const own = await httpRequest(metricsUrl, { method: 'GET' });
    expect(own.status).toBe(200);
    expect(published(own.text)).toBe(20);
  });

  it('C2 a partner batch: one webhook per change, the same lookup answer from either worker', async () => {
    for (let i = 0; i < 10; i += 1) {
      const aeoId = newAeoId('CL');
      await postDecisionUntilAcknowledged(cl.gateway.apiUrl, certifyDecision(aeoId, 'CL'));
      clAeoIds.push(aeoId);
    }
    // The webhook is the event: the change is committed at PE and published to every worker.
    await waitFor(
      `${clAeoIds.length} webhooks`,
      async () => (receiver.on('/border').length >= clAeoIds.length ? true : undefined),
      120_000,
      100,
    );
    const answers = new Map<number, string[]>();
    let probe = 0;
    await waitFor(
      'every CL operator recognised alike by both workers',
      async () => {
        answers.clear();
        for (const aeoId of clAeoIds) {
          for (let k = 0; k < 2; k += 1) {
            const { pid, answer } = await lookupOnce(aeoId, `c2-${probe++}`);
            if (!answer.recognised) return undefined;
            const seen = answers.get(pid) ?? [];
            seen.push(JSON.stringify({ aeoId, operator: answer.operator, evidence: answer.evidence }));
            answers.set(pid, seen);
          }
        }
        return answers.size === 2 ? true : undefined;
      },
      60_000,
      200,
    );
    const [a, b] = [...answers.values()].map((list) => new Set(list));
    // Each worker answered some operators; where both answered the same one, the answers are equal.
    const shared = [...a!].filter((x) => b!.has(x));
    const keysA = new Set([...a!].map((x) => (JSON.parse(x) as { aeoId: string }).aeoId));
    const keysB = new Set([...b!].map((x) => (JSON.parse(x) as { aeoId: string }).aeoId));
    const both = [...keysA].filter((k) => keysB.has(k));
    expect(shared.length).toBe(both.length);
    expect(both.length).toBeGreaterThan(0);
    await notificationsSettled(peStore, 60_000);
    const hooks = receiver.on('/border');
    const ids = new Set(hooks.map((h) => String(h.headers['webhook-id'])));
    expect(ids.size).toBe(clAeoIds.length);
    expect(hooks.length).toBe(clAeoIds.length);
  });

  it('C3 a worker killed with SIGKILL is replaced; nothing acknowledged is lost', async () => {
    const [victim, survivor] = pe.workerPids() as [number, number];
    const before = pe.logs.length;
    process.kill(victim, 'SIGKILL');
    await decisions(10);
    const restarted = await pe.waitLog(
      'a worker started again',
      (l) => l.msg === 'gateway process started again' && pe.logs.indexOf(l) >= before,
    );
    const now = pe.workerPids();
    expect(now).toHaveLength(2);
    expect(now).toContain(survivor);
    expect(now).not.toContain(victim);
    expect(now).toContain(restarted.pid);
    expect(
      pe.logs.some(
        (l) => l.msg === 'gateway process exited unexpectedly; starting another' && l.pid === victim,
      ),
    ).toBe(true);
    await decisions(10);
    await allDeliveredOnce();
  });

  it('C4 SIGTERM to the primary stops every worker in order; exit 0', async () => {
    const workers = pe.workerPids();
    const code = await pe.stop();
    expect(code).toBe(0);
    expect(workers.every((pid) => !running(pid))).toBe(true);
    const shutdowns = pe.logs.filter((l) => l.msg === 'shutting down' && typeof l.worker === 'number');
    expect(shutdowns.map((l) => l.pid).sort()).toEqual([...workers].sort());
  });
});
