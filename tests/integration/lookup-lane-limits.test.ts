/**
 * The lane's rate limit is the listener's (src/http/rate-window.ts): one count per caller whichever way a request
 * is answered, the same headers, and past the limit the routes' own 429. Its reading of a caller's address
 * behind a trusted proxy is fastify's `request.ip`. The answerer is a stand-in: what is tested is the transport.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/config/types.ts';
import { GatewayError } from '../../src/errors.ts';
import { requireScope } from '../../src/http/api-auth.ts';
import { createBaseApp } from '../../src/http/base-app.ts';
import { registerOperatorRoutes } from '../../src/http/routes/api/operators.ts';
import { callerAddress } from '../../src/http/routes/api/operators-lane.ts';
import { createLogger } from '../../src/log.ts';
import type { Answerer } from '../../src/lookup/answer.ts';

const TOKEN = 'lane-limit-token-0123456789';
const clients: ApiClient[] = [
  {
    id: 'border',
    tokenSha256: createHash('sha256').update(TOKEN).digest('hex'),
    scopes: new Set(['border']),
  } as ApiClient,
];
const answerer: Answerer = {
  answerJson: (query) => Buffer.from(JSON.stringify({ query })),
  batchJson: () => Buffer.from('{}'),
  answer: () => {
    throw new Error('not used');
  },
};

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function start(
  perMinute: number,
  trustProxy = false,
  lookup: Answerer = answerer,
  lines: string[] = [],
): Promise<{ url: string; answered: number[] }> {
  const answered: number[] = [];
  const log = createLogger('info', { write: (line: string) => void lines.push(line) });
  app = await createBaseApp({
    log,
    trustProxy,
    rateLimitPerMinute: perMinute,
    serverFactory: (handler) => createServer(handler),
  });
  app.get('/ip', async (req) => ({ ip: req.ip }));
  await app.register(
    async (border) => {
      requireScope(border, clients, 'border');
      registerOperatorRoutes(border, {
        lookup,
        clock: () => new Date('2026-01-01T00:00:00Z'),
        clients,
        answered: (s) => answered.push(s),
        log,
        summaryIntervalMs: 0,
      });
    },
    { prefix: '/api/v1' },
  );
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, answered };
}

const auth = { authorization: `Bearer ${TOKEN}` };

describe('the lane and the rate limit', () => {
  it('counts with the routes, shows the same headers, and leaves the 429 to them', async () => {
    const { url, answered } = await start(4);
    const get = async (path: string) => {
      const res = await request(`${url}${path}`, { headers: auth });
      await res.body.text();
      return {
        status: res.statusCode,
        remaining: res.headers['x-ratelimit-remaining'],
        limit: res.headers['x-ratelimit-limit'],
        retryAfter: res.headers['retry-after'],
      };
    };
    // Lane, routes (a query the lane leaves to them), lane, lane: one count each.
    expect(await get('/api/v1/operators/PE/PE123')).toMatchObject({
      status: 200,
      remaining: '3',
      limit: '4',
    });
    expect(await get('/api/v1/operators/PE/PE123?x=1')).toMatchObject({ status: 400, remaining: '2' });
    expect(await get('/api/v1/operators?scheme=TIN&value=1')).toMatchObject({ status: 200, remaining: '1' });
    expect(await get('/api/v1/operators/PE/PE124')).toMatchObject({ status: 200, remaining: '0' });
    const refused = await get('/api/v1/operators/PE/PE125');
    expect(refused).toMatchObject({ status: 429, remaining: '0', limit: '4' });
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    // The metrics count every request of a border token, as the routes' hook always has: five.
    expect(answered).toHaveLength(5);
  });

  it('reads a caller behind a trusted proxy as fastify does', async () => {
    const { url } = await start(1_000, true);
    const forwarded = [
      '203.0.113.7',
      ' 203.0.113.7 , 192.0.2.1',
      '2001:db8::1, 192.0.2.1',
      ', 192.0.2.2',
      '  ',
    ];
    for (const header of forwarded) {
      const res = await request(`${url}/ip`, { headers: { 'x-forwarded-for': header } });
      const { ip } = (await res.body.json()) as { ip: string };
      const fake = {
        headers: { 'x-forwarded-for': header },
        socket: { remoteAddress: '127.0.0.1' },
      } as unknown as IncomingMessage;
      expect(callerAddress(fake, true), JSON.stringify(header)).toBe(ip);
    }
    const odd = { headers: { 'x-forwarded-for': 'unknown' }, socket: {} } as unknown as IncomingMessage;
    expect(callerAddress(odd, true)).toBeUndefined();
    // A tab: the lane leaves such a header to fastify, which reads it by its own rule (proxy-addr).
    for (const header of ['198.51.100.1\t, 192.0.2.1', '198.51.100.1,\t192.0.2.1']) {
      const tabbed = { headers: { 'x-forwarded-for': header }, socket: {} } as unknown as IncomingMessage;
      expect(callerAddress(tabbed, true), JSON.stringify(header)).toBeUndefined();
    }
    const res = await request(`${url}/ip`, { headers: { 'x-forwarded-for': '198.51.100.1\t, 192.0.2.1' } });
    expect(((await res.body.json()) as { ip: string }).ip).toBe('198.51.100.1');
  });

  it('answers a lookup the read model cannot answer yet as the routes do: 503 with Retry-After', async () => {
    const loading: Answerer = {
      ...answerer,
      answerJson: () => {
        throw new GatewayError('NOT_READY', 'the lookup read model is loading', { retryAfterSeconds: 1 });
      },
    };
    const { url, answered } = await start(100, false, loading);
    const path = '/api/v1/operators/PE/PE123';
    const viaLane = await request(`${url}${path}`, { headers: auth });
    const viaRoutes = await app!.inject({ method: 'GET', url: path, headers: auth });
    expect(viaLane.statusCode).toBe(503);
    expect(await viaLane.body.text()).toBe(viaRoutes.body);
    for (const name of ['content-type', 'retry-after', 'x-ratelimit-limit']) {
      expect(viaLane.headers[name], name).toBe(viaRoutes.headers[name]);
    }
    expect(answered).toHaveLength(2);
  });

  it('logs a summary of its lookups, not a line per request', async () => {
    const lines: string[] = [];
    const { url } = await start(100, false, answerer, lines);
    for (let i = 0; i < 3; i += 1) {
      await (await request(`${url}/api/v1/operators/PE/PE12${i}`, { headers: auth })).body.text();
    }
    // A refusal goes to the routes, which log it as they always have.
    await (await request(`${url}/api/v1/operators/PE/PE120`)).body.text();
    const messages = lines.map((l) => JSON.parse(l) as { msg: string; lookups?: number });
    const summaries = messages.filter((m) => m.msg === 'border lookups answered');
    expect(summaries.map((m) => m.lookups)).toEqual([1, 1, 1]);
    const perRequest = messages.filter((m) => m.msg === 'incoming request' || m.msg === 'request completed');
    expect(perRequest).toHaveLength(2);
  });
});
