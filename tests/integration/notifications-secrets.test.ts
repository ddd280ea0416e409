/**
 * Webhook secrets at rest and their rotation, on real PostgreSQL, Redis and HTTP: the table holds a sealed
 * secret, never the one issued; a secret stored as issued before keys were configured is sealed at start and
 * still signs; the sealing key rotates (a new first key reseals, the old one can then go); a rotated secret
 * signs next to the previous one for the overlap, so receivers holding either verify, then alone once the
 * subscriber ends the overlap or it lapses.
 */
import { createSecretKey, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../src/config/types.ts';
import { startGateway } from '../../src/gateway.ts';
import { createLogger } from '../../src/log.ts';
import { openStore } from '../../src/store/open.ts';
import { expectProblem, httpRequest, postTo, socketClient } from '../support/gateway.ts';
import {
  bearer,
  type LookupSetup,
  makeLookupSetup,
  type Replica,
  TOKENS,
  within,
} from '../support/lookup.ts';
import { freshRecord } from '../support/records.ts';
import {
  type Received,
  startReceiver,
  verifyStandardWebhook,
  type WebhookReceiver,
} from '../support/webhook-receiver.ts';

let setup: LookupSetup;
let a: Replica;
let receiver: WebhookReceiver;
/** Replicas started here rather than by the setup, closed at the end if a test did not. */
const open = new Set<Replica>();

beforeAll(async () => {
  setup = await makeLookupSetup({ outbound: { backoffMs: 100, maxBackoffMs: 400, attempts: 6 } });
  a = await setup.replica();
  receiver = await startReceiver();
});
afterAll(async () => {
  for (const r of [...open]) await r.close();
  await receiver?.stop();
  await setup?.close();
});

const api = (r: Replica, path: string) => `${r.gateway.apiUrl}/api/v1${path}`;

async function subscribe(r: Replica, path: string): Promise<{ id: string; secret: string }> {
  const res = await postTo(
    api(r, '/subscriptions'),
    { url: receiver.url(path) },
    { headers: bearer(TOKENS.border) },
  );
  expect(res.status, res.text).toBe(201);
  return JSON.parse(res.text) as { id: string; secret: string };
}

/** Sends one record through `r` and waits for the notification `path` receives for it. */
async function oneEvent(r: Replica, path: string): Promise<Received> {
  const record = freshRecord('CL');
  await setup.send(r, [record]);
  const mine = () => receiver.on(path).filter((x) => x.body.includes(record.operator.aeoId));
  await within(`the notification on ${path}`, 20_000, async () => mine().length >= 1);
  return mine()[0]!;
}

const stored = async (r: Replica, id: string) =>
  (
    await r.store.query<{ secret: string; secret_key_id: string | null; previous_secret: string | null }>(
      'SELECT secret, secret_key_id, previous_secret FROM webhook_subscription WHERE id = $1',
      [id],
    )
  )[0]!;

/** A replica of PE with other notification settings, on the same database and queues. */
async function replicaWith(notifications: Partial<GatewayConfig['notifications']>): Promise<Replica> {
  const store = await openStore({ kind: 'postgres', databaseUrl: setup.db.url });
  const config = { ...setup.config, notifications: { ...setup.config.notifications, ...notifications } };
  const gateway = await startGateway(config, { store, log: createLogger('silent') });
  const replica: Replica = {
    gateway,
    store,
    partner: socketClient(gateway.url),
    api: socketClient(gateway.apiUrl),
    async close() {
      open.delete(replica);
      await gateway.close();
      await store.close();
    },
  };
  open.add(replica);
  return replica;
}

describe('a webhook secret at rest', () => {
  it('is sealed under the configured key, and signs as issued', async () => {
    const { id, secret } = await subscribe(a, '/sealed');
    const row = await stored(a, id);
    expect(row.secret_key_id).toBe('test-1');
    expect(row.secret).not.toContain(secret);
    expect(row.secret).not.toContain(secret.slice('whsec_'.length, 30));
    expect(Buffer.from(row.secret, 'base64url').includes(Buffer.from(secret.slice(6), 'base64'))).toBe(false);
    expect(verifyStandardWebhook(secret, await oneEvent(a, '/sealed'))).toBe(true);
  });

  it('stored as issued before keys were configured is sealed at start and still signs', async () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const [row] = await a.store.query<{ id: string }>(
      `INSERT INTO webhook_subscription (id, api_client, url, secret, created_at)
       VALUES (gen_random_uuid(), 'risk-engine', $1, $2, now()) RETURNING id::text`,
      [receiver.url('/legacy'), secret],
    );
    const b = await setup.replica();
    try {
      const sealed = await stored(b, row!.id);
      expect(sealed.secret_key_id).toBe('test-1');
      expect(sealed.secret).not.toContain(secret.slice(6, 30));
      expect(verifyStandardWebhook(secret, await oneEvent(b, '/legacy'))).toBe(true);
    } finally {
      await b.close();
    }
  });

  it('is sealed again under a new first key, and the old key can then go', async () => {
    const { id, secret } = await subscribe(a, '/rekeyed');
    const old = setup.config.notifications.secretKeys;
    const next = { id: 'test-2', key: createSecretKey(randomBytes(32)) };
    const b = await replicaWith({ secretKeys: [next, ...old] });
    try {
      expect((await stored(b, id)).secret_key_id).toBe('test-2');
    } finally {
      await b.close();
    }
    // Every replica now runs with the new key alone.
    await a.close();
    const c = await replicaWith({ secretKeys: [next] });
    try {
      expect(verifyStandardWebhook(secret, await oneEvent(c, '/rekeyed'))).toBe(true);
    } finally {
      await c.close();
    }
    // And back: the first key seals again, so the next tests' replicas, which hold it alone, read every row.
    a = await replicaWith({ secretKeys: [...old, next] });
    expect((await stored(a, id)).secret_key_id).toBe('test-1');
  });
});

describe('a rotated webhook secret', () => {
  it('signs next to the previous one during the overlap; each receiver verifies with its own', async () => {
    const { id, secret: before } = await subscribe(a, '/rotated');
    const res = await postTo(
      api(a, `/subscriptions/${id}/secret/rotate`),
      {},
      { headers: bearer(TOKENS.border) },
    );
    expect(res.status, res.text).toBe(200);
    const rotated = JSON.parse(res.text) as { id: string; secret: string; previousSecretUntil: string };
    expect(rotated.id).toBe(id);
    expect(rotated.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(rotated.secret).not.toBe(before);
    const overlap = new Date(rotated.previousSecretUntil).getTime() - Date.now();
    expect(overlap).toBeGreaterThan(23 * 3_600_000);
    expect(overlap).toBeLessThanOrEqual(24 * 3_600_000);
    expect((await stored(a, id)).previous_secret).not.toContain(before.slice(6, 30));

    const during = await oneEvent(a, '/rotated');
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifyStandardWebhook(before, during)).toBe(true);
    expect(verifyStandardWebhook(rotated.secret, during)).toBe(true);

    // The subscriber has moved to the new secret and ends the overlap.
    const ended = await httpRequest(api(a, `/subscriptions/${id}/secret/previous`), {
      method: 'DELETE',
      headers: bearer(TOKENS.border),
    });
    expect(ended.status).toBe(204);
    const after = await oneEvent(a, '/rotated');
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(verifyStandardWebhook(rotated.secret, after)).toBe(true);
    expect(verifyStandardWebhook(before, after)).toBe(false);
  });

  it('is the only one that signs once the overlap has lapsed', async () => {
    const { id, secret: before } = await subscribe(a, '/lapsed');
    const res = await postTo(
      api(a, `/subscriptions/${id}/secret/rotate`),
      {},
      { headers: bearer(TOKENS.border) },
    );
    const { secret } = JSON.parse(res.text) as { secret: string };
    // A gateway living a day and an hour later, alone on the queue.
    await a.close();
    const later = await setup.replica(undefined, () => new Date(Date.now() + 25 * 3_600_000));
    try {
      const got = await oneEvent(later, '/lapsed');
      expect(verifyStandardWebhook(secret, got)).toBe(true);
      expect(verifyStandardWebhook(before, got)).toBe(false);
    } finally {
      await later.close();
    }
    a = await setup.replica();
  });

  it("is only for the subscription's owner", async () => {
    const { id } = await subscribe(a, '/owned');
    const rotate = (token: string, which = id) =>
      postTo(api(a, `/subscriptions/${which}/secret/rotate`), {}, { headers: bearer(token) });
    expectProblem(await rotate(TOKENS.national), 403, 'FORBIDDEN');
    expectProblem(await rotate(TOKENS.border, '00000000-0000-4000-8000-000000000000'), 404, 'NOT_FOUND');
    expectProblem(await rotate(TOKENS.border, 'not-a-uuid'), 400, 'BODY_INVALID');
  });
});
