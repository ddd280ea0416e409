/**
 * The operators' replay of webhook dead letters (src/notifications/dead-letters.ts), on a PostgreSQL test database:
 * only dead rows of the selection move back to pending, each once, with one audit entry naming them; rows
 * delivered or still pending are left alone, so nothing delivered is sent twice.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/audit/verify.ts';
import { listDeadNotifications, replayDeadNotifications } from '../../src/notifications/dead-letters.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/types.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

let store: Store;
let db: TestDatabase;
const subA = randomUUID();
const subB = randomUUID();

async function subscription(id: string, url: string): Promise<void> {
  await store.query(
    `INSERT INTO webhook_subscription (id, api_client, url, secret, secret_key_id, created_at)
     VALUES ($1, 'border', $2, 'sealed', 'k1', now())`,
    [id, url],
  );
}

async function notification(sub: string, state: string, issuer = 'CL'): Promise<number> {
  const [row] = await store.query<{ id: string }>(
    `INSERT INTO notification (event_id, subscription_id, type, issuer, aeo_id, version, order_key, payload, state,
                               attempts, last_error, created_at)
     VALUES ($1, $2, 'benefits.started', $3, 'CLOP1', 1, $3 || '/CLOP1', '{}'::jsonb, $4, 3, 'refused', now())
     RETURNING id::text`,
    [randomUUID(), sub, issuer, state],
  );
  return Number(row!.id);
}

beforeAll(async () => {
  db = await createTestDatabase();
  store = await openStore({ kind: 'postgres', databaseUrl: db.url });
  await subscription(subA, 'https://user:pw@receiver.example/hook?token=secret');
  await subscription(subB, 'https://other.example/hook');
}, 120_000);
afterAll(async () => {
  await store?.close();
  await db?.drop();
});

describe('webhook dead letters for operators', () => {
  it('lists dead rows of every subscription, addresses without credentials', async () => {
    const dead = await notification(subA, 'dead');
    await notification(subA, 'delivered');
    const listed = await listDeadNotifications(store, { limit: 10 });
    expect(listed.map((n) => n.id)).toEqual([dead]);
    expect(listed[0]).toMatchObject({
      subscriptionId: subA,
      apiClient: 'border',
      attempts: 3,
      lastError: 'refused',
    });
    expect(listed[0]!.url).toBe('https://receiver.example/hook');
    expect(await listDeadNotifications(store, { subscriptionId: subB, limit: 10 })).toEqual([]);
  });

  it('replays only dead rows of the selection, once, with an audit entry', async () => {
    const deadB = await notification(subB, 'dead', 'PE');
    const deliveredB = await notification(subB, 'delivered', 'PE');
    const pendingB = await notification(subB, 'pending', 'PE');
    const [deadA] = (await listDeadNotifications(store, { subscriptionId: subA, limit: 10 })).map(
      (n) => n.id,
    );

    // By ids, across subscriptions; a delivered or pending id is left alone.
    const replayed = await replayDeadNotifications(store, {
      ids: [deadA!, deliveredB, pendingB],
      actor: 'cli',
    });
    expect(replayed).toEqual([deadA]);
    expect(await replayDeadNotifications(store, { ids: [deadA!] })).toEqual([]);
    // By subscription and issuer.
    expect(await replayDeadNotifications(store, { subscriptionId: subB, issuer: 'CL' })).toEqual([]);
    expect(await replayDeadNotifications(store, { subscriptionId: subB, actor: 'cli' })).toEqual([deadB]);

    const states = await store.query<{ id: string; state: string; attempts: number }>(
      'SELECT id::text, state, attempts FROM notification WHERE id = ANY($1::bigint[]) ORDER BY id',
      [[deadA, deadB, deliveredB, pendingB]],
    );
    expect(states.map((s) => [Number(s.id), s.state, Number(s.attempts)])).toEqual([
      [deadA, 'pending', 0],
      [deadB, 'pending', 0],
      [deliveredB, 'delivered', 3],
      [pendingB, 'pending', 3],
    ]);
    const entries = await store.query<{ actor: string; subject: string; detail: Record<string, unknown> }>(
      "SELECT actor, subject, detail FROM audit_log WHERE kind = 'admin-action' ORDER BY seq",
    );
    expect(entries).toEqual([
      {
        actor: 'cli',
        subject: 'all-subscriptions',
        detail: { action: 'webhook-replay', subscriptions: [subA], notifications: [deadA] },
      },
      {
        actor: 'cli',
        subject: subB,
        detail: { action: 'webhook-replay', subscriptions: [subB], notifications: [deadB] },
      },
    ]);
    expect((await verifyAudit(store)).broken).toBeUndefined();
  });
});
