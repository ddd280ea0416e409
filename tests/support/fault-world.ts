/**
 * The world of a fault case: PE and CL exchanging (delivery.ts), a border system's webhook receiver subscribed at
 * PE, and counters for the invariants of docs/threats.md: what the partner stores once, twice or never (I1, I3),
 * what the receiver got under which webhook-id (I3: the same id, the same bytes), and the load that makes it.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Signer } from '../../src/config/types.ts';
import type { Store } from '../../src/store/types.ts';
import { type Exchange, type ExchangeOptions, heldAt, makeExchange, outboxOf, waitFor } from './delivery.ts';
import { bearer, newAeoId, publish } from './exchange.ts';
import { postTo, type TestGateway } from './gateway.ts';
import { freshSigned } from './records.ts';
import type { Received, WebhookReceiver } from './webhook-receiver.ts';

export const BORDER = randomBytes(32).toString('base64url');

/** PE and CL as makeExchange makes them, PE with a border client that may subscribe webhooks. */
export function makeFaultExchange(options: ExchangeOptions = {}): Promise<Exchange> {
  return makeExchange(['PE', 'CL'], {
    ...options,
    edit: (id, raw) => {
      if (id === 'PE')
        raw.apiClients = [
          ...(raw.apiClients ?? []),
          {
            id: 'border',
            tokenSha256: createHash('sha256').update(BORDER).digest('hex'),
            scopes: ['border'],
          },
        ];
      options.edit?.(id, raw);
    },
  });
}

/** Subscribes `url` for the border at the API listener `apiUrl`. */
export async function subscribe(apiUrl: string, url: string): Promise<void> {
  const res = await postTo(`${apiUrl}/api/v1/subscriptions`, { url }, { headers: bearer(BORDER) });
  if (res.status !== 201) throw new Error(`subscription refused: ${res.status} ${res.text.slice(0, 200)}`);
}

/** Decisions published at `gw`, `width` at a time; each call's latency kept. */
export async function publishMany(gw: TestGateway, n: number, width = 4) {
  const recordIds: string[] = [];
  const aeoIds: string[] = [];
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        next += 1;
        const aeoId = newAeoId('PE');
        const t0 = Date.now();
        const { record } = await publish(gw, aeoId);
        latencies.push(Date.now() - t0);
        aeoIds.push(aeoId);
        recordIds.push(record!.recordId);
      }
    }),
  );
  return { recordIds, aeoIds, maxMs: Math.max(0, ...latencies) };
}

/** `n` fresh CL records pushed to `gw`'s partner endpoint in batches of `batch`; all must be accepted. */
export async function pushMany(gw: TestGateway, signer: Signer, n: number, batch = 10) {
  const aeoIds: string[] = [];
  let maxMs = 0;
  let receipts = 0;
  for (let sent = 0; sent < n; sent += batch) {
    const { records, jws } = await freshSigned('CL', signer, Math.min(batch, n - sent));
    const t0 = Date.now();
    const { results } = await gw.send(jws);
    maxMs = Math.max(maxMs, Date.now() - t0);
    if (!results.every((r) => r.outcome === 'accepted'))
      throw new Error(`not accepted: ${JSON.stringify(results)}`);
    receipts += 1;
    aeoIds.push(...records.map((r) => r.operator.aeoId));
  }
  return { aeoIds, receipts, maxMs };
}

/** Waits until PE's outbox rows to CL are all delivered (at least `atLeast` of them). */
export function allDelivered(ex: Exchange, atLeast: number, timeoutMs = 180_000) {
  return waitFor(
    `${atLeast} outbox rows delivered to CL`,
    async () => {
      const rows = await outboxOf(ex.store('PE'), 'CL');
      if (rows.length >= atLeast && rows.every((r) => r.state === 'delivered')) return rows;
      // Thrown, so that a timeout says where the rows stood.
      const states: Record<string, number> = {};
      for (const r of rows) states[r.state] = (states[r.state] ?? 0) + 1;
      throw new Error(`${rows.length} rows: ${JSON.stringify(states)}`);
    },
    timeoutMs,
    200,
  );
}

/** How the partner holds `recordIds`: once, more than once, or not at all. */
export async function heldCounts(ex: Exchange, recordIds: readonly string[], aeoIds: readonly string[]) {
  const held = await heldAt(ex.store('CL'), 'PE', aeoIds);
  const once = recordIds.filter((id) => held.evidence.get(id) === 1).length;
  const twice = recordIds.filter((id) => (held.evidence.get(id) ?? 0) > 1).length;
  const lost = recordIds.filter((id) => !held.evidence.has(id)).length;
  return { once, duplicates: twice, lost };
}

/** What the receiver got for `aeoIds`: events (distinct webhook-ids), resends of an id, ids whose bytes differ. */
export function webhookCounts(received: readonly Received[], aeoIds: readonly string[]) {
  const wanted = new Set(aeoIds);
  const mine = received.filter((r) =>
    wanted.has((JSON.parse(r.body) as { data: { aeoId: string } }).data.aeoId),
  );
  const byId = new Map<string, string[]>();
  for (const r of mine) {
    const id = String(r.headers['webhook-id']);
    byId.set(id, [...(byId.get(id) ?? []), r.body]);
  }
  const operators = new Set(mine.map((r) => (JSON.parse(r.body) as { data: { aeoId: string } }).data.aeoId));
  return {
    received: mine.length,
    events: byId.size,
    operators: operators.size,
    resent: mine.length - byId.size,
    differing: [...byId.values()].filter((b) => b.some((x) => x !== b[0])).length,
  };
}

/** Waits until the receiver holds an event for every one of `aeoIds`. */
export function allNotified(receiver: WebhookReceiver, aeoIds: readonly string[], timeoutMs = 180_000) {
  return waitFor(
    `notifications for ${aeoIds.length} operators`,
    async () => (webhookCounts(receiver.on('/border'), aeoIds).operators >= aeoIds.length ? true : undefined),
    timeoutMs,
    200,
  );
}

/** Waits until no notification row at `store` is pending or retrying: every webhook answered or given up. */
export function notificationsSettled(store: Store, timeoutMs = 180_000) {
  return waitFor(
    'every notification settled',
    async () => {
      const [row] = await store.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM notification WHERE state IN ('pending', 'retrying')`,
      );
      return Number(row?.n) === 0 ? true : undefined;
    },
    timeoutMs,
    200,
  );
}
