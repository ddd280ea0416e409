/**
 * docs/threats.md 75 through the gateway, on real PostgreSQL, Redis and HTTP: subscriptions to loopback, link-local,
 * private, odd IPv4 spellings, plain http or a name resolving to loopback are refused with RECEIVER_REFUSED
 * before anything is connected to; without a key for secrets none is made; a receiver that redirects is not
 * followed; a URL stored before the rules is refused at delivery; the subscriber sees a failure's class only.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAILURE_CLASSES } from '../../src/notifications/webhook-post.ts';
import { expectProblem } from '../support/gateway.ts';
import {
  apiGet,
  bearer,
  type InjectedReplica,
  type LookupSetup,
  makeLookupSetup,
  TOKENS,
  within,
} from '../support/lookup.ts';
import { freshRecord } from '../support/records.ts';

interface Listener {
  port: number;
  connections: number;
  requests: number;
  close(): Promise<void>;
}

/** A loopback server that counts connections and answers every request with `status` (and `headers`). */
async function listener(
  host: string,
  answer: (port: number) => [number, Record<string, string>?],
): Promise<Listener> {
  const sockets = new Set<Socket>();
  const l: Listener = {
    port: 0,
    connections: 0,
    requests: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      l.requests += 1;
      const [status, headers] = answer(l.port);
      if (status > 0) res.writeHead(status, headers).end();
    });
  });
  server.on('connection', (s: Socket) => {
    l.connections += 1;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  l.port = (server.address() as AddressInfo).port;
  return l;
}

const subscribe = (r: InjectedReplica, body: Record<string, unknown>) =>
  r.api.post(`/api/v1/subscriptions`, body, { headers: bearer(TOKENS.border) });

describe('subscribing, where only https to 127.0.0.1 is allowed and no key is configured', () => {
  let setup: LookupSetup;
  let a: InjectedReplica;
  let watched: Listener[];

  beforeAll(async () => {
    setup = await makeLookupSetup({ notifications: { allowHttp: false, allowHosts: ['127.0.0.1'] } });
    a = await setup.composed();
    // Listeners where refused URLs point: none of them may see a connection.
    watched = [await listener('127.0.0.1', () => [204]), await listener('127.0.0.2', () => [204])];
  });
  afterAll(async () => {
    await Promise.all((watched ?? []).map((l) => l.close()));
    await setup?.close();
  });

  it('refuses every receiver the rules refuse, naming the rule, connecting to none', async () => {
    const [one, two] = [watched[0]!.port, watched[1]!.port];
    const cases: [string, RegExp][] = [
      [`http://127.0.0.1:${one}/hook`, /plain http is not allowed/],
      [`https://127.0.0.2:${two}/hook`, /127\.0\.0\.2 is a loopback address/],
      [`https://localhost:${one}/hook`, /localhost resolves to a loopback address/],
      [`https://[::1]:${one}/hook`, /::1 is a loopback address/],
      [`https://[::ffff:127.0.0.2]:${two}/hook`, /is a loopback address/],
      [`https://2130706434:${two}/hook`, /not written in its normal form \(127\.0\.0\.2\)/],
      [`https://0x7f000002:${two}/hook`, /normal form/],
      [`https://0x7f.2:${two}/hook`, /normal form/],
      [`https://0177.0.0.2:${two}/hook`, /normal form/],
      ['https://169.254.169.254/latest/meta-data/', /link-local/],
      ['https://10.0.0.5:22/', /10\.0\.0\.5 is a private address/],
      ['https://172.16.3.4/', /private/],
      ['https://192.168.1.1/', /private/],
      ['https://100.64.0.1/', /carrier-grade NAT/],
      ['https://[fd00::1]/', /private/],
      ['https://[fe80::1]/', /link-local/],
      ['https://0.0.0.0/', /unspecified/],
      [`https://user:secret@127.0.0.1:${one}/hook`, /credentials/],
      [`https://127.0.0.1:${one}/hook#x`, /fragment/],
      [`https://localhost.:${one}/hook`, /must not end with a dot/],
    ];
    for (const [url, detail] of cases) {
      const problem = expectProblem(await subscribe(a, { url }), 400, 'RECEIVER_REFUSED');
      expect(problem.detail, url).toMatch(detail);
    }
    expectProblem(await subscribe(a, { url: 'ftp://127.0.0.1/x' }), 400, 'BODY_INVALID');
    expect(watched.map((l) => l.connections)).toEqual([0, 0]);
    const [row] = await a.store.query<{ n: string }>('SELECT count(*)::text AS n FROM webhook_subscription');
    expect(row?.n).toBe('0');
  });

  it('makes no subscription without a key to seal its secret', async () => {
    const url = `https://127.0.0.1:${watched[0]!.port}/hook`;
    const problem = expectProblem(await subscribe(a, { url }), 503, 'WEBHOOK_KEY_MISSING');
    expect(problem.detail).toMatch(/notifications\.secretKeys/);
    expect(watched[0]!.connections).toBe(0);
  });
});

describe('delivering, where loopback over http is allowed', () => {
  let setup: LookupSetup;
  let a: InjectedReplica;
  const listeners: Listener[] = [];
  const watch = async (answer: (port: number) => [number, Record<string, string>?]) => {
    const l = await listener('127.0.0.1', answer);
    listeners.push(l);
    return l;
  };

  beforeAll(async () => {
    setup = await makeLookupSetup({
      outbound: { backoffMs: 100, maxBackoffMs: 200, attempts: 2, requestTimeoutMs: 2_000 },
    });
    a = await setup.composed();
  });
  afterAll(async () => {
    await Promise.all(listeners.map((l) => l.close()));
    await setup?.close();
  });

  async function deadLetterOf(subscriptionId: string): Promise<{ lastError: string; attempts: number }> {
    let dead: { lastError: string; attempts: number } | undefined;
    await within('a dead letter', 30_000, async () => {
      const res = await apiGet(a, `/subscriptions/${subscriptionId}/deliveries?state=dead`);
      [dead] = (JSON.parse(res.text) as { deliveries: { lastError: string; attempts: number }[] }).deliveries;
      return dead !== undefined;
    });
    return dead!;
  }

  it('shows the subscriber each failure as a class, never an address, port or error text', async () => {
    const target = await watch(() => [204]);
    const redirecting = await watch(() => [302, { location: `http://127.0.0.1:${target.port}/elsewhere` }]);
    const notFound = await watch(() => [404]);
    const failing = await watch(() => [500]);
    const silent = await watch(() => [0]);
    const closed = await watch(() => [204]);
    await closed.close();
    const expected: [Listener, string][] = [
      [redirecting, 'http-3xx'],
      [notFound, 'http-4xx'],
      [failing, 'http-5xx'],
      [silent, 'timeout'],
      [closed, 'refused'],
    ];
    const ids: string[] = [];
    for (const [l] of expected) {
      const res = await subscribe(a, { url: `http://127.0.0.1:${l.port}/hook` });
      expect(res.status, res.text).toBe(201);
      ids.push((JSON.parse(res.text) as { id: string }).id);
    }
    await setup.send(a, [freshRecord('CL')]);
    for (const [i, [, failure]] of expected.entries()) {
      const dead = await deadLetterOf(ids[i]!);
      expect(dead).toMatchObject({ lastError: failure, attempts: 2 });
    }
    // Redirects are not followed: the target never heard of it.
    expect(redirecting.requests).toBe(2);
    expect(target.connections).toBe(0);
    const listing = await apiGet(a, `/subscriptions/${ids[4]}/deliveries`);
    expect(listing.text).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|:\d{4,5}\b/);
    const errors = await a.store.query<{ e: string }>('SELECT DISTINCT last_error AS e FROM notification');
    for (const { e } of errors) expect(FAILURE_CLASSES).toContain(e);
  });

  it('refuses at delivery a URL stored before the rules, without connecting', async () => {
    const inside = await watch(() => [204]);
    // Subscriptions from before the rules: to a private address, which no configuration here allows, and to
    // a loopback listener by a URL carrying credentials.
    const rows = await a.store.query<{ id: string }>(
      `INSERT INTO webhook_subscription (id, api_client, url, secret, created_at)
       VALUES (gen_random_uuid(), 'risk-engine', 'http://10.0.0.1:9/hook', 'whsec_AAAA', now()),
              (gen_random_uuid(), 'risk-engine', $1, 'whsec_AAAA', now())
       RETURNING id::text`,
      [`http://user:pass@127.0.0.1:${inside.port}/hook`],
    );
    await setup.send(a, [freshRecord('CL')]);
    for (const { id } of rows) {
      expect(await deadLetterOf(id)).toMatchObject({ lastError: 'refused-address', attempts: 2 });
    }
    expect(inside.connections).toBe(0);
  });
});
