/**
 * The queue view (Bull Board) at /queues on the API listener: admin scope only, by bearer token or by the
 * dashboard's session of an admin; its API lists the gateway's own queues and is read-only. A gateway whose
 * Redis is not reachable answers a 503 problem document instead of a page that cannot load.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Exchange, makeExchange } from '../support/delivery.ts';
import { API_TOKENS, bearer, freePorts } from '../support/exchange.ts';
import { expectProblem, type HttpResponse, httpRequest } from '../support/gateway.ts';

const BORDER = randomBytes(32).toString('base64url');
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const withBorderClient = (_id: string, raw: { apiClients?: unknown[] }) => {
  raw.apiClients = [
    ...(raw.apiClients ?? []),
    { id: 'risk-engine', tokenSha256: sha256(BORDER), scopes: ['border'] },
  ];
};

let ex: Exchange;
let noRedis: Exchange;

beforeAll(async () => {
  ex = await makeExchange(['PE', 'CL'], { edit: withBorderClient });
  await ex.start('PE');
  const [dead] = await freePorts(1);
  noRedis = await makeExchange(['PE', 'CL'], {
    redisUrl: `redis://127.0.0.1:${dead}`,
    edit: withBorderClient,
  });
  await noRedis.start('PE');
}, 120_000);

afterAll(async () => {
  await ex?.close();
  await noRedis?.close();
});

const get = (on: Exchange, path: string, headers: Record<string, string> = {}): Promise<HttpResponse> =>
  httpRequest(`${on.gw('PE').gateway.apiUrl}${path}`, { method: 'GET', headers });

async function signIn(token: string): Promise<string> {
  const res = await httpRequest(`${ex.gw('PE').gateway.apiUrl}/dashboard/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    body: `token=${encodeURIComponent(token)}&lang=en`,
  });
  expect(res.status, res.text.slice(0, 200)).toBe(303);
  return String(res.headers['set-cookie']).split(';')[0] ?? '';
}

describe('/queues', () => {
  it('asks for a token (401) and refuses a border token (403)', async () => {
    const none = await get(ex, '/queues');
    expectProblem(none, 401, 'UNAUTHORIZED');
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expectProblem(await get(ex, '/queues', bearer(BORDER)), 403, 'FORBIDDEN');
    expectProblem(await get(ex, '/queues', bearer(API_TOKENS.monitoring)), 403, 'FORBIDDEN');
    expectProblem(await get(ex, '/queues/api/queues', bearer(BORDER)), 403, 'FORBIDDEN');
  });

  it('shows the board to an admin token', async () => {
    const res = await get(ex, '/queues', bearer(API_TOKENS.operator));
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    expect(String(res.headers['content-type'])).toMatch(/^text\/html/);
    expect(res.text).toContain('<base href="/queues/"');
    // The page's own scripts load behind the same check.
    const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec(res.text)?.[1];
    expect(script).toBeDefined();
    const js = await get(ex, `/queues/${script}`, bearer(API_TOKENS.operator));
    expect(js.status).toBe(200);
    expect(String(js.headers['content-type'])).toMatch(/javascript/);
    expectProblem(await get(ex, `/queues/${script}`), 401, 'UNAUTHORIZED');
  });

  it("lists the gateway's queues through the board's API, read-only", async () => {
    const res = await get(
      ex,
      '/queues/api/queues?activeQueue=delivery-CL&status=latest&page=1',
      bearer(API_TOKENS.operator),
    );
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    const body = JSON.parse(res.text) as { queues: { name: string; readOnlyMode: boolean }[] };
    const names = body.queues.map((q) => q.name).sort();
    expect(names).toEqual(['delivery-CL', 'notifications']);
    expect(body.queues.every((q) => q.readOnlyMode)).toBe(true);
  });

  it("answers the board's own errors as problem documents", async () => {
    const res = await get(ex, '/queues/api/queues/no-such-queue/metrics', bearer(API_TOKENS.operator));
    expectProblem(res, 404, 'NOT_FOUND');
    expect(JSON.parse(res.text).detail).toContain('QUEUE_NOT_FOUND');
  });

  it("opens with an admin's dashboard session, not with a monitoring one", async () => {
    const admin = await signIn(API_TOKENS.operator);
    const page = await get(ex, '/queues', { cookie: admin, accept: 'text/html' });
    expect(page.status, page.text.slice(0, 300)).toBe(200);
    expect(String(page.headers['content-type'])).toMatch(/^text\/html/);
    const monitoring = await signIn(API_TOKENS.monitoring);
    expectProblem(await get(ex, '/queues', { cookie: monitoring }), 403, 'FORBIDDEN');
    expectProblem(await get(ex, '/queues', { cookie: 'mra_dashboard=not-a-session' }), 401, 'UNAUTHORIZED');
  });

  it('answers 503 with a problem document while Redis is not reachable', async () => {
    const res = await get(noRedis, '/queues', bearer(API_TOKENS.operator));
    expect(expectProblem(res, 503, 'QUEUE_UNAVAILABLE').detail).toMatch(/Redis/);
    // Authorisation comes first: nothing is said about Redis to a caller without a token.
    expectProblem(await get(noRedis, '/queues'), 401, 'UNAUTHORIZED');
  });
});
