/**
 * docs/threats.md 53 and 54 for notifications, on a private redis-server (no persistence) on a loopback port of
 * its own: with Redis down at start the gateway still receipts records that cause notifications and says it
 * is degraded; once Redis is up every pending notification goes out, each once at the border receiver. With
 * Redis killed while notifications wait in it as retries, everything in Redis is lost; after Redis is back
 * the relay finds the rows whose jobs are gone and sends them again, and the receiver sees each event once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/delivery.ts';
import { freePorts } from '../support/exchange.ts';
import { httpRequest, postTo } from '../support/gateway.ts';
import { bearer, type LookupSetup, makeLookupSetup, type Replica, TOKENS } from '../support/lookup.ts';
import { freshRecord } from '../support/records.ts';
import { REDIS_SERVER, type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { type Received, startReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

let setup: LookupSetup;
let a: Replica;
let receiver: WebhookReceiver;
let port: number;
let redis: RedisServer | undefined;

beforeAll(async () => {
  if (REDIS_SERVER === undefined) return;
  [port] = (await freePorts(1)) as [number];
  setup = await makeLookupSetup({
    redisUrl: `redis://127.0.0.1:${port}`,
    outbound: { backoffMs: 200, maxBackoffMs: 800, attempts: 30, relayIntervalMs: 200 },
  });
  receiver = await startReceiver();
}, 120_000);

afterAll(async () => {
  await receiver?.stop();
  await setup?.close();
  await redis?.kill();
});

async function readiness(): Promise<Record<string, unknown>> {
  const res = await httpRequest(`${a.gateway.apiUrl}/health/ready`, { method: 'GET' });
  return { httpStatus: res.status, ...(JSON.parse(res.text) as Record<string, unknown>) };
}

const aeoIdOf = (r: Received) => (JSON.parse(r.body) as { data: { aeoId?: string } }).data.aeoId;

/** The receiver's requests for these operators, and how many times each webhook-id came. */
function seenFor(aeoIds: readonly string[]): { received: Received[]; perId: Map<string, number> } {
  const received = receiver.on('/border').filter((r) => aeoIds.includes(aeoIdOf(r) ?? ''));
  const perId = new Map<string, number>();
  for (const r of received) {
    const id = String(r.headers['webhook-id']);
    perId.set(id, (perId.get(id) ?? 0) + 1);
  }
  return { received, perId };
}

async function rowsOf(aeoIds: readonly string[]): Promise<{ state: string; attempts: number }[]> {
  return a.store.query<{ state: string; attempts: number }>(
    `SELECT state, attempts FROM notification
      WHERE aeo_id IN (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY id`,
    [JSON.stringify(aeoIds)],
  );
}

describe.skipIf(REDIS_SERVER === undefined)('notifications when Redis fails', () => {
  it('with Redis down at start: records are receipted, readiness is degraded, and all go out once Redis is up', async () => {
    a = await setup.replica();
    const sub = await postTo(
      `${a.gateway.apiUrl}/api/v1/subscriptions`,
      { url: receiver.url('/border') },
      { headers: bearer(TOKENS.border) },
    );
    expect(sub.status, sub.text.slice(0, 300)).toBe(201);
    expect(await readiness()).toEqual({ httpStatus: 200, status: 'degraded', database: true, redis: false });

    const records = [freshRecord('CL'), freshRecord('CL'), freshRecord('CL')];
    const aeoIds = records.map((r) => r.operator.aeoId);
    const sent = await setup.send(a, records);
    expect(sent.results.map((r) => r.outcome)).toEqual(['accepted', 'accepted', 'accepted']);
    // Waiting in PostgreSQL, with nothing sent.
    expect((await rowsOf(aeoIds)).map((r) => r.state)).toEqual(['pending', 'pending', 'pending']);
    expect(seenFor(aeoIds).received).toHaveLength(0);

    redis = await startRedisServer(port);
    await waitFor(
      'every notification delivered once Redis is up',
      async () => ((await rowsOf(aeoIds)).every((r) => r.state === 'delivered') ? true : undefined),
      120_000,
      100,
    );
    await waitFor('readiness to see Redis', async () =>
      (await readiness()).redis === true ? true : undefined,
    );
    const { received, perId } = seenFor(aeoIds);
    expect(received.map(aeoIdOf).sort()).toEqual([...aeoIds].sort());
    expect([...perId.values()]).toEqual([1, 1, 1]);
  }, 300_000);

  it('with Redis killed while notifications wait in it: replayed from the outbox, each once at the receiver', async () => {
    await receiver.stop();
    const records = [freshRecord('CL'), freshRecord('CL')];
    const aeoIds = records.map((r) => r.operator.aeoId);
    const sent = await setup.send(a, records);
    expect(sent.results.map((r) => r.outcome)).toEqual(['accepted', 'accepted']);
    // Both tried and failed once: their jobs now wait in Redis as delayed retries.
    await waitFor(
      'both notifications retrying',
      async () => ((await rowsOf(aeoIds)).every((r) => r.state === 'retrying') ? true : undefined),
      120_000,
      50,
    );
    await redis!.kill();
    redis = undefined;
    await waitFor('readiness to see Redis gone', async () =>
      (await readiness()).redis === false ? true : undefined,
    );
    // Received while Redis is gone: receipted, and its notification waits in PostgreSQL.
    const late = freshRecord('CL');
    aeoIds.push(late.operator.aeoId);
    expect((await setup.send(a, [late])).results.map((r) => r.outcome)).toEqual(['accepted']);

    await receiver.start();
    redis = await startRedisServer(port);
    await waitFor(
      'every notification delivered after the restart',
      async () => {
        const rows = await rowsOf(aeoIds);
        return rows.length === 3 && rows.every((r) => r.state === 'delivered') ? true : undefined;
      },
      180_000,
      100,
    );
    const { received, perId } = seenFor(aeoIds);
    expect(received.map(aeoIdOf).sort()).toEqual([...aeoIds].sort());
    expect([...perId.values()]).toEqual([1, 1, 1]);
  }, 300_000);
});
