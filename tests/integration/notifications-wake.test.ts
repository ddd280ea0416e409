/**
 * A batch that writes notification rows due at once has them relayed by its own commit, without the relay
 * asking the outbox whether any row is due: with the relay's timer set to ten minutes, the webhook still comes
 * within seconds. The rows counted are those due at once; one held until a later day, or an event no
 * subscription takes, asks for no relay at all. Real PostgreSQL, Redis and HTTP.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NotificationEvent, writeNotifications } from '../../src/notifications/record.ts';
import * as lookup from '../support/lookup.ts';
import { freshRecord } from '../support/records.ts';
import { startReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

let setup: lookup.LookupSetup;
let a: lookup.InjectedReplica;
let receiver: WebhookReceiver;

/** The operators whose event reached the receiver. */
const arrived = () =>
  receiver.on('/hook').map((r) => (JSON.parse(r.body) as { data: { aeoId: string } }).data.aeoId);

beforeAll(async () => {
  setup = await lookup.makeLookupSetup({ outbound: { relayIntervalMs: 600_000 } });
  a = await setup.composed();
  receiver = await startReceiver();
  const res = await a.api.post(
    '/api/v1/subscriptions',
    { url: receiver.url('/hook'), issuers: ['CL'] },
    { headers: lookup.bearer(lookup.TOKENS.border) },
  );
  expect(res.status, res.text).toBe(201);
});

afterAll(async () => {
  await receiver?.stop();
  await setup?.close();
});

const event = (issuer: string, deliverAfter?: Date): NotificationEvent => ({
  eventId: randomUUID(),
  type: 'benefits.started',
  issuer,
  aeoId: `AEO-${randomUUID()}`,
  version: 1,
  orderKey: `${issuer}/${randomUUID()}`,
  payload: {},
  ...(deliverAfter === undefined ? {} : { deliverAfter }),
});

/** Thrown to roll the transaction of `dueOf` back. */
class Undo extends Error {}

/** What writeNotifications counts for `events`, in a transaction rolled back afterwards. */
async function dueOf(events: readonly NotificationEvent[], at: Date): Promise<number> {
  let due = -1;
  await a.store
    .transaction(async (tx) => {
      due = await writeNotifications(tx, events, at);
      throw new Undo();
    })
    .catch((error: unknown) => {
      if (!(error instanceof Undo)) throw error;
    });
  return due;
}

describe('notification rows written by an inbound commit', () => {
  it('are relayed by the commit itself, not by the relay timer', async () => {
    const record = freshRecord('CL', { statusSince: '2025-01-10' });
    const sent = await setup.send(a, [record]);
    expect(sent.results.map((r) => r.outcome)).toEqual(['accepted']);
    await lookup.within('the webhook', 10_000, async () => arrived().includes(record.operator.aeoId));
  });

  it('are counted as due only when due at once and taken by a subscription', async () => {
    const at = new Date();
    const tomorrow = new Date(at.getTime() + 86_400_000);
    expect(await dueOf([event('CL'), event('CL')], at)).toBe(2);
    expect(await dueOf([event('CL', tomorrow), event('CL')], at)).toBe(1);
    expect(await dueOf([event('CL', tomorrow)], at)).toBe(0);
    // No subscription takes events of PE's operators: no row, nothing due.
    expect(await dueOf([event('PE')], at)).toBe(0);
    expect(await dueOf([], at)).toBe(0);
  });
});
