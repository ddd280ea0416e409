/**
 * Webhook notifications to border systems, on real PostgreSQL, Redis and HTTP: a partner's suspension reaches
 * a subscribed webhook once, signed (verified here from the Standard Webhooks specification), with the
 * operator's version; a replayed batch notifies nothing; filters by issuer and event type hold; a receiver
 * down and back gets the event once; an unreachable one ends in dead letters, which its subscriber replays;
 * MRA suspension at start.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/gateway.ts';
import {
  apiGet,
  bearer,
  type InjectedReplica,
  type LookupSetup,
  lookupOne,
  makeLookupSetup,
  TOKENS,
  within,
} from '../support/lookup.ts';
import { freshRecord, nextVersion } from '../support/records.ts';
import {
  type Received,
  startReceiver,
  verifyStandardWebhook,
  type WebhookReceiver,
} from '../support/webhook-receiver.ts';

let setup: LookupSetup;
let a: InjectedReplica;
let receiver: WebhookReceiver;
const secrets = new Map<string, string>();
const ids = new Map<string, string>();

async function subscribe(name: string, body: Record<string, unknown>): Promise<void> {
  const res = await a.api.post(`/api/v1/subscriptions`, body, {
    headers: bearer(TOKENS.border),
  });
  expect(res.status, res.text).toBe(201);
  const created = JSON.parse(res.text) as { id: string; secret: string };
  expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
  secrets.set(name, created.secret);
  ids.set(name, created.id);
}

type Event = {
  type: string;
  timestamp: string;
  data: { aeoId?: string; version?: number; partner?: string };
};
const eventOf = (r: Received) => JSON.parse(r.body) as Event;
const forOperator = (path: string, aeoId: string) =>
  receiver.on(path).filter((r) => eventOf(r).data.aeoId === aeoId);

beforeAll(async () => {
  setup = await makeLookupSetup({ outbound: { backoffMs: 200, maxBackoffMs: 800, attempts: 4 } });
  a = await setup.composed();
  receiver = await startReceiver();
  await subscribe('all', { url: receiver.url('/all') });
  await subscribe('pe-only', { url: receiver.url('/pe-only'), issuers: ['PE'] });
  await subscribe('stopped-only', {
    url: receiver.url('/stopped-only'),
    issuers: ['CL'],
    events: ['benefits.stopped'],
  });
});

afterAll(async () => {
  await receiver?.stop();
  await setup?.close();
});

describe('subscriptions', () => {
  it('are refused to a publish token and to no token', async () => {
    const url = '/api/v1/subscriptions';
    const body = { url: receiver.url('/x') };
    expectProblem(await a.api.post(url, body, { headers: bearer(TOKENS.national) }), 403, 'FORBIDDEN');
    expectProblem(await a.api.post(url, body, { headers: bearer(TOKENS.admin) }), 403, 'FORBIDDEN');
    expectProblem(await a.api.post(url, body), 401, 'UNAUTHORIZED');
  });

  it('take http and https URLs only, and known event types', async () => {
    const url = '/api/v1/subscriptions';
    const auth = { headers: bearer(TOKENS.border) };
    expectProblem(await a.api.post(url, { url: 'ftp://127.0.0.1/x' }, auth), 400, 'BODY_INVALID');
    expectProblem(await a.api.post(url, { url: 'not a url at all' }, auth), 400, 'BODY_INVALID');
    expectProblem(
      await a.api.post(url, { url: receiver.url('/x'), events: ['operator.deleted'] }, auth),
      400,
      'BODY_INVALID',
    );
  });

  it('are listed without their secret, and deleted', async () => {
    await subscribe('temp', { url: receiver.url('/temp') });
    const listed = JSON.parse((await apiGet(a, '/subscriptions')).text) as {
      subscriptions: Record<string, unknown>[];
    };
    expect(listed.subscriptions.map((s) => s.id)).toContain(ids.get('temp'));
    expect(listed.subscriptions.every((s) => s.secret === undefined)).toBe(true);
    const del = await a.api.request(`/api/v1/subscriptions/${ids.get('temp')}`, {
      method: 'DELETE',
      headers: bearer(TOKENS.border),
    });
    expect(del.status).toBe(204);
    const again = await a.api.request(`/api/v1/subscriptions/${ids.get('temp')}`, {
      method: 'DELETE',
      headers: bearer(TOKENS.border),
    });
    expectProblem(again, 404, 'NOT_FOUND');
  });
});

describe('a partner suspension', () => {
  const v1 = freshRecord('CL', { statusSince: '2025-01-10' });
  const v2 = nextVersion(v1, 2, { status: 'suspended', statusSince: '2025-06-01' });
  const aeoId = v1.operator.aeoId;

  it('reaches the webhook once, signed, with the version; filters hold', async () => {
    expect((await setup.send(a, [v1])).results.map((r) => r.outcome)).toEqual(['accepted']);
    await within('benefits.started', 5_000, async () => forOperator('/all', aeoId).length === 1);
    const sent = await setup.send(a, [v2]);
    expect(sent.results.map((r) => r.outcome)).toEqual(['accepted']);
    await within('benefits.stopped', 5_000, async () => forOperator('/stopped-only', aeoId).length === 1);
    await within('both events on /all', 5_000, async () => forOperator('/all', aeoId).length === 2);
    // Time for a duplicate to show up, were there one.
    await new Promise((r) => setTimeout(r, 1_500));

    const all = forOperator('/all', aeoId);
    expect(all.map((r) => [eventOf(r).type, eventOf(r).data.version])).toEqual([
      ['benefits.started', 1],
      ['benefits.stopped', 2],
    ]);
    for (const r of all) expect(verifyStandardWebhook(secrets.get('all')!, r)).toBe(true);
    expect(verifyStandardWebhook(secrets.get('stopped-only')!, all[0]!)).toBe(false);
    const stopped = forOperator('/stopped-only', aeoId);
    expect(stopped).toHaveLength(1);
    expect(verifyStandardWebhook(secrets.get('stopped-only')!, stopped[0]!)).toBe(true);
    expect(eventOf(stopped[0]!)).toMatchObject({
      type: 'benefits.stopped',
      data: { issuer: 'CL', aeoId, version: 2, previousVersion: 1, status: 'suspended', recognised: false },
    });
    expect(receiver.on('/pe-only')).toHaveLength(0);
    const ids1 = new Set(all.map((r) => r.headers['webhook-id']));
    expect(ids1.size).toBe(2);
  });

  it('sent again, byte for byte, notifies nothing', async () => {
    const before = receiver.received.length;
    const rows = () => a.store.query<{ n: string }>('SELECT count(*)::text AS n FROM notification');
    const [before1] = await rows();
    const sent = await setup.send(a, [v2]);
    expect(sent.results.map((r) => r.outcome)).toEqual(['duplicate']);
    await new Promise((r) => setTimeout(r, 1_500));
    const [after1] = await rows();
    expect(after1?.n).toBe(before1?.n);
    expect(receiver.received.length).toBe(before);
  });
});

describe('a version that takes effect later', () => {
  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
  const v1 = freshRecord('CL', { statusSince: '2025-01-10' });
  const v2 = nextVersion(v1, 2, { status: 'suspended', statusSince: day(2) });
  const aeoId = v1.operator.aeoId;

  it('is notified on its day, not at receipt, as the lookup answer changes then', async () => {
    await setup.send(a, [v1]);
    await within('benefits.started', 5_000, async () => forOperator('/all', aeoId).length === 1);
    expect((await setup.send(a, [v2])).results.map((r) => r.outcome)).toEqual(['accepted']);
    const [held] = await a.store.query<{ due: string; state: string }>(
      `SELECT to_char(deliver_after AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') AS due, state
         FROM notification WHERE aeo_id = $1 AND version = 2 AND subscription_id = $2`,
      [aeoId, ids.get('all')],
    );
    expect(held).toEqual({ due: `${day(2)}T00:00:00`, state: 'pending' });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(forOperator('/all', aeoId)).toHaveLength(1);
    expect((await lookupOne(a, 'CL', aeoId)).recognised).toBe(true);

    // A replica living on that day sends it; the event says when it took effect.
    const later = await setup.composed(undefined, () => new Date(Date.now() + 2 * 86_400_000 + 3_600_000));
    try {
      await within('benefits.stopped on its day', 5_000, async () => forOperator('/all', aeoId).length === 2);
      const stopped = forOperator('/all', aeoId)[1]!;
      expect(verifyStandardWebhook(secrets.get('all')!, stopped)).toBe(true);
      expect(eventOf(stopped)).toMatchObject({
        type: 'benefits.stopped',
        timestamp: `${day(2)}T00:00:00.000Z`,
        data: { aeoId, version: 2, previousVersion: 1, status: 'suspended', recognised: false },
      });
      expect((await lookupOne(later, 'CL', aeoId)).reason).toBe('suspended');
    } finally {
      await later.close();
    }
  });

  it('holds back nothing that takes effect at once behind it', async () => {
    const w1 = freshRecord('CL', { statusSince: '2025-01-10' });
    const w2 = nextVersion(w1, 2, { status: 'suspended', statusSince: day(3) });
    const w3 = nextVersion(w1, 3, { statusSince: '2025-02-01' });
    const w = w1.operator.aeoId;
    await setup.send(a, [w1]);
    await within('w1 started', 5_000, async () => forOperator('/all', w).length === 1);
    await setup.send(a, [w2]);
    await setup.send(a, [w3]);
    // w3 follows a held w2 in the state, so it is judged against w2 and goes out at once; w2 goes out on its
    // day with the lower version, which a consumer drops.
    await within('w3 while w2 is held', 5_000, async () => forOperator('/all', w).length === 2);
    expect(forOperator('/all', w).map((r) => eventOf(r).data.version)).toEqual([1, 3]);
    const [held] = await a.store.query<{ state: string }>(
      'SELECT state FROM notification WHERE aeo_id = $1 AND version = 2 AND subscription_id = $2',
      [w, ids.get('all')],
    );
    expect(held?.state).toBe('pending');
  });
});

describe('a receiver down and back', () => {
  it('gets the event once, after retries', async () => {
    const down = await startReceiver();
    await subscribe('down', { url: down.url('/down') });
    await down.stop();
    const v1 = freshRecord('CL');
    await setup.send(a, [v1]);
    const subId = ids.get('down')!;
    await within('a failed attempt', 5_000, async () => {
      const res = await apiGet(a, `/subscriptions/${subId}/deliveries?state=retrying`);
      return (JSON.parse(res.text) as { deliveries: unknown[] }).deliveries.length === 1;
    });
    await down.start();
    await within('delivery after the receiver is back', 10_000, async () => down.on('/down').length === 1);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(down.on('/down')).toHaveLength(1);
    expect(verifyStandardWebhook(secrets.get('down')!, down.on('/down')[0]!)).toBe(true);
    const res = await apiGet(a, `/subscriptions/${subId}/deliveries?state=delivered`);
    const { deliveries } = JSON.parse(res.text) as { deliveries: { attempts: number; version: number }[] };
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]!.attempts).toBeGreaterThan(1);
    await down.stop();
  });

  it('that never comes back leaves a dead letter, visible to its subscriber only', async () => {
    const gone = await startReceiver();
    await subscribe('gone', { url: gone.url('/gone') });
    await gone.stop();
    await setup.send(a, [freshRecord('CL')]);
    const subId = ids.get('gone')!;
    await within('a dead letter', 15_000, async () => {
      const res = await apiGet(a, `/subscriptions/${subId}/deliveries?state=dead`);
      return (JSON.parse(res.text) as { deliveries: unknown[] }).deliveries.length === 1;
    });
    const res = await apiGet(a, `/subscriptions/${subId}/deliveries?state=dead`);
    const [dead] = (JSON.parse(res.text) as { deliveries: { attempts: number; lastError: string }[] })
      .deliveries;
    expect(dead!.attempts).toBe(4);
    // A class, not the address, port or errno: the listing is no scanner of the gateway's network.
    expect(dead!.lastError).toBe('refused');
    expectProblem(
      await apiGet(a, `/subscriptions/${subId}/deliveries`, bearer(TOKENS.national)),
      403,
      'FORBIDDEN',
    );

    // Back, and replayed by its subscriber: delivered once, signed, with the same webhook-id; a second replay
    // finds nothing dead.
    const deadRow = JSON.parse(res.text) as { deliveries: { id: number; eventId: string }[] };
    const replay = (body: Record<string, unknown>, token: string = TOKENS.border, id = subId) =>
      a.api.post(`/api/v1/subscriptions/${id}/deliveries/replay`, body, {
        headers: bearer(token),
      });
    expectProblem(await replay({}, TOKENS.national), 403, 'FORBIDDEN');
    expectProblem(await replay({}, TOKENS.border, randomUUID()), 404, 'NOT_FOUND');
    expectProblem(await replay({ ids: [] }), 400, 'BODY_INVALID');
    await gone.start();
    const first = await replay({ ids: [deadRow.deliveries[0]!.id] });
    expect(first.status, first.text).toBe(200);
    expect(JSON.parse(first.text)).toEqual({ replayed: [deadRow.deliveries[0]!.id] });
    await within('the replayed dead letter delivered', 10_000, async () => gone.on('/gone').length === 1);
    const [delivered] = gone.on('/gone');
    expect(verifyStandardWebhook(secrets.get('gone')!, delivered!)).toBe(true);
    expect(delivered!.headers['webhook-id']).toBe(deadRow.deliveries[0]!.eventId);
    const again = await replay({});
    expect(JSON.parse(again.text)).toEqual({ replayed: [] });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(gone.on('/gone')).toHaveLength(1);
    await gone.stop();
  });
});

describe('an MRA suspended in the configuration', () => {
  it('is notified once when a replica starts with it', async () => {
    const b = await setup.composed({ status: 'suspended' });
    try {
      await within('mra.suspended', 5_000, async () =>
        receiver.on('/all').some((r) => eventOf(r).type === 'mra.suspended'),
      );
      const events = receiver.on('/all').filter((r) => eventOf(r).type === 'mra.suspended');
      expect(events).toHaveLength(1);
      expect(eventOf(events[0]!).data).toMatchObject({ partner: 'CL' });
      expect(verifyStandardWebhook(secrets.get('all')!, events[0]!)).toBe(true);
    } finally {
      await b.close();
    }
  });
});
