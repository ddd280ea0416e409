/**
 * Notifications go out in jobs of one subscription's rows, on real PostgreSQL, Redis and HTTP: still one
 * signed POST per notification; a row that fails is retried alone, with the same webhook-id and bytes, while
 * the others of its job are delivered once; and it holds back the later version of its operator, which
 * reaches the receiver after it. A receiver that is down costs a job one failure per connection, not one per
 * row: the rows not sent yet wait, no attempt counted, and go with the job's retry.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUESTS_PER_JOB } from '../../src/notifications/send.ts';
import {
  bearer,
  type InjectedReplica,
  type LookupSetup,
  makeLookupSetup,
  TOKENS,
  within,
} from '../support/lookup.ts';
import { freshRecord, nextVersion } from '../support/records.ts';
import { type Received, verifyStandardWebhook } from '../support/webhook-receiver.ts';

let setup: LookupSetup;
let a: InjectedReplica;
let server: Server;
const received: (Received & { status: number })[] = [];
/** Operators whose first notification the receiver refuses with a 503. */
const refuseFirst = new Set<string>();
/** While true, the receiver answers 503 to every POST on /down. */
let receiverDown = false;

type Event = { type: string; data: { aeoId: string; version: number } };
const eventOf = (r: Received) => JSON.parse(r.body) as Event;

beforeAll(async () => {
  setup = await makeLookupSetup({ outbound: { backoffMs: 200, maxBackoffMs: 800, attempts: 4 } });
  a = await setup.composed();
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      const aeoId = eventOf(r).data.aeoId;
      const status = (r.path === '/down' && receiverDown) || refuseFirst.delete(aeoId) ? 503 : 204;
      received.push({ ...r, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await setup?.close();
});

describe('a job of several operators where one receiver answer fails', () => {
  it('retries that one alone, same id and bytes, and holds back its next version', async () => {
    const port = (server.address() as AddressInfo).port;
    const res = await a.api.post(
      '/api/v1/subscriptions',
      { url: `http://127.0.0.1:${port}/hook` },
      { headers: bearer(TOKENS.border) },
    );
    expect(res.status, res.text).toBe(201);
    const { secret } = JSON.parse(res.text) as { secret: string };

    const records = Array.from({ length: 6 }, () => freshRecord('CL', { statusSince: '2025-01-10' }));
    const failing = records[0]!;
    const failingId = failing.operator.aeoId;
    refuseFirst.add(failingId);
    const sent = await setup.send(a, records);
    expect(sent.results.map((r) => r.outcome)).toEqual(records.map(() => 'accepted'));
    const v2 = nextVersion(failing, 2, { status: 'suspended', statusSince: '2025-06-01' });
    expect((await setup.send(a, [v2])).results.map((r) => r.outcome)).toEqual(['accepted']);

    await within(
      'every event delivered',
      10_000,
      async () => received.filter((r) => r.status === 204).length === 7,
    );
    // Time for a duplicate to show up, were there one.
    await new Promise((r) => setTimeout(r, 1_000));

    const of = (aeoId: string) => received.filter((r) => eventOf(r).data.aeoId === aeoId);
    for (const record of records.slice(1)) {
      const got = of(record.operator.aeoId);
      expect(got.map((r) => r.status)).toEqual([204]);
      expect(verifyStandardWebhook(secret, got[0]!)).toBe(true);
    }
    const mine = of(failingId);
    expect(mine.map((r) => [r.status, eventOf(r).type, eventOf(r).data.version])).toEqual([
      [503, 'benefits.started', 1],
      [204, 'benefits.started', 1],
      [204, 'benefits.stopped', 2],
    ]);
    expect(mine[1]!.headers['webhook-id']).toBe(mine[0]!.headers['webhook-id']);
    expect(mine[1]!.body).toBe(mine[0]!.body);
    for (const r of mine) expect(verifyStandardWebhook(secret, r)).toBe(true);

    const rows = await a.store.query<{ aeo_id: string; state: string; attempts: number }>(
      `SELECT aeo_id, state, attempts FROM notification ORDER BY id`,
    );
    expect(rows.every((r) => r.state === 'delivered')).toBe(true);
    expect(rows.filter((r) => r.aeo_id === failingId).map((r) => r.attempts)).toEqual([2, 1]);
  });
});

describe('a job whose receiver is down', () => {
  it('stops sending at the first failure; the rows not sent wait, no attempt counted, and go out once', async () => {
    const port = (server.address() as AddressInfo).port;
    receiverDown = true;
    const res = await a.api.post(
      '/api/v1/subscriptions',
      { url: `http://127.0.0.1:${port}/down` },
      { headers: bearer(TOKENS.border) },
    );
    expect(res.status, res.text).toBe(201);
    const { id } = JSON.parse(res.text) as { id: string };
    const records = Array.from({ length: 20 }, () => freshRecord('CL', { statusSince: '2025-01-10' }));
    const sent = await setup.send(a, records);
    expect(sent.results.map((r) => r.outcome)).toEqual(records.map(() => 'accepted'));
    const attempts = async () =>
      (
        await a.store.query<{ attempts: number }>(
          'SELECT attempts FROM notification WHERE subscription_id = $1 ORDER BY id',
          [id],
        )
      ).map((r) => Number(r.attempts));
    await within('a first failure', 10_000, async () => (await attempts()).some((n) => n > 0));
    // At most one request per connection of the job went out: the rest were not tried.
    const untried = (await attempts()).filter((n) => n === 0).length;
    expect(untried).toBeGreaterThanOrEqual(20 - REQUESTS_PER_JOB);
    receiverDown = false;
    const down = (r: Received & { status: number }) => r.path === '/down';
    await within(
      'every event delivered',
      10_000,
      async () => received.filter((r) => down(r) && r.status === 204).length === 20,
    );
    await new Promise((r) => setTimeout(r, 1_000));
    const delivered = received.filter((r) => down(r) && r.status === 204).map((r) => eventOf(r).data.aeoId);
    expect(delivered.sort()).toEqual(records.map((r) => r.operator.aeoId).sort());
    const rows = await a.store.query<{ state: string }>(
      'SELECT state FROM notification WHERE subscription_id = $1',
      [id],
    );
    expect(rows.map((r) => r.state)).toEqual(records.map(() => 'delivered'));
  });
});
