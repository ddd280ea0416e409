/**
 * The dashboard's routes without a browser, on the embedded store: the sign-in form and its one answer for
 * every refusal, the session cookie, the pages' Content-Security-Policy nonce, the language chosen by `lang`
 * or Accept-Language, sign-out, and hostile input that never reaches a 5xx.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBaseApp } from '../../src/http/base-app.ts';
import { LOGIN_ATTEMPTS_PER_MINUTE, registerDashboardRoutes } from '../../src/http/routes/dashboard.ts';
import { createLogger } from '../../src/log.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { expectProblem, type HttpResponse } from '../support/gateway.ts';
import { composeTestGateway, type InjectedGateway } from '../support/inject.ts';

const token = () => randomBytes(32).toString('base64url');
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const TOKENS = { monitoring: token(), admin: token(), publish: token() } as const;
const FORM = 'application/x-www-form-urlencoded';

let admins: TestAdmins;
let gw: InjectedGateway;

beforeAll(async () => {
  admins = makeAdmins(['PE', 'CL'], {
    edit: (_id, raw) => {
      raw.apiClients = [
        { id: 'monitoring', tokenSha256: sha256(TOKENS.monitoring), scopes: ['monitoring'] },
        { id: 'operators', tokenSha256: sha256(TOKENS.admin), scopes: ['admin'] },
        { id: 'national-aeo', tokenSha256: sha256(TOKENS.publish), scopes: ['publish'] },
      ];
    },
  });
  gw = await composeTestGateway(admins.get('PE').config, 'embedded');
});

afterAll(async () => {
  await gw?.close();
  admins?.cleanup();
});

const get = (path: string, headers: Record<string, string> = {}) =>
  gw.api.request(path, { method: 'GET', headers });
/** As a browser submits the sign-in form: it takes HTML. */
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const login = (body: string, headers: Record<string, string> = {}) =>
  gw.api.request('/dashboard/login', {
    method: 'POST',
    headers: { 'content-type': FORM, accept: BROWSER_ACCEPT, ...headers },
    body,
  });

function nonceOf(res: HttpResponse): string {
  const csp = String(res.headers['content-security-policy']);
  const match = /script-src 'nonce-([A-Za-z0-9_-]+)'/.exec(csp);
  expect(match, csp).not.toBeNull();
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("frame-ancestors 'none'");
  return match?.[1] ?? '';
}

async function signIn(t: string): Promise<string> {
  const res = await login(`token=${encodeURIComponent(t)}&lang=en`);
  expect(res.status, res.text.slice(0, 200)).toBe(303);
  expect(res.headers.location).toBe('/dashboard?lang=en');
  const cookie = String(res.headers['set-cookie']);
  expect(cookie).toMatch(
    /^mra_dashboard=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Strict$/,
  );
  return cookie.split(';')[0] ?? '';
}

describe('GET /dashboard', () => {
  it('shows the sign-in form without a session, with a nonce for its style and nothing cached', async () => {
    const res = await get('/dashboard');
    expect(res.status).toBe(200);
    expect(String(res.headers['content-type'])).toMatch(/^text\/html/);
    const nonce = nonceOf(res);
    expect(res.text).toContain(`<style nonce="${nonce}">`);
    expect(res.text).toContain('name="token"');
    expect(res.text).not.toContain('id="panels"');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-frame-options']).toBe('DENY');
    // A new nonce for every answer.
    expect(nonceOf(await get('/dashboard'))).not.toBe(nonce);
  });

  it('speaks Spanish for ?lang=es or Accept-Language, English otherwise', async () => {
    expect((await get('/dashboard?lang=es')).text).toContain('<html lang="es-ES">');
    expect((await get('/dashboard', { 'accept-language': 'es-CL,es;q=0.9' })).text).toContain('lang="es-ES"');
    expect((await get('/dashboard?lang=en', { 'accept-language': 'es' })).text).toContain('lang="en-GB"');
    expect((await get('/dashboard?lang=fr')).text).toContain('lang="en-GB"');
  });
});

describe('signing in and out', () => {
  it('refuses a wrong token and a token without the scope alike: 401, the form, no cookie', async () => {
    const strip = (r: HttpResponse) => r.text.replaceAll(nonceOf(r), 'NONCE');
    const wrong = await login(`token=${token()}&lang=en`);
    const noScope = await login(`token=${TOKENS.publish}&lang=en`);
    const empty = await login('lang=en');
    for (const res of [wrong, noScope, empty]) {
      expect(res.status).toBe(401);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.text).toContain('id="login-error"');
    }
    expect(strip(noScope)).toBe(strip(wrong));
    expect(strip(empty)).toBe(strip(wrong));
  });

  it('answers a client that does not take HTML with the problem document of the API', async () => {
    for (const accept of ['application/json', '*/*', '']) {
      const res = await login(`token=${token()}&lang=en`, { accept });
      expect(res.status).toBe(401);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
      expect((JSON.parse(res.text) as { code: string }).code).toBe('UNAUTHORIZED');
    }
  });

  it('opens the dashboard for monitoring and admin tokens, its script allowed by the nonce', async () => {
    for (const t of [TOKENS.monitoring, TOKENS.admin]) {
      const cookie = await signIn(t);
      const page = await get('/dashboard', { cookie });
      expect(page.status).toBe(200);
      const nonce = nonceOf(page);
      expect(page.text).toContain('id="panels"');
      expect(page.text).toContain(`<script nonce="${nonce}">`);
      expect(page.text.match(/<script/g)).toHaveLength(1);
      expect(page.text).toContain('data-partner="CL"');
      const data = await get('/dashboard/data?lang=es', { cookie });
      expect(data.status).toBe(200);
      const body = JSON.parse(data.text) as {
        data: { home: string; partners: { adminId: string }[]; days: unknown[] };
        html: string;
        updatedAt: string;
      };
      expect(body.data.home).toBe('PE');
      expect(body.data.partners.map((p) => p.adminId)).toEqual(['CL']);
      expect(body.data.days).toHaveLength(30);
      expect(body.html).toContain('Contrapartes');
      expect(body.updatedAt).toMatch(/^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2} UTC$/);
    }
  });

  it('ends the session on sign-out', async () => {
    const cookie = await signIn(TOKENS.monitoring);
    const out = await gw.api.request('/dashboard/logout', {
      method: 'POST',
      headers: { cookie, 'content-type': FORM },
      body: '',
    });
    expect(out.status).toBe(303);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    expectProblem(await get('/dashboard/data', { cookie }), 401, 'UNAUTHORIZED');
    expect((await get('/dashboard', { cookie })).text).toContain('name="token"');
  });
});

describe('hostile input', () => {
  it('never answers 5xx', async () => {
    const cases: Promise<HttpResponse>[] = [
      login(`token=${'a'.repeat(10_000)}`),
      login('token=%zz%&lang=%00'),
      login('{"token":"x"}', { 'content-type': 'application/json' }),
      login('token=x', { 'content-type': 'text/plain' }),
      get('/dashboard?lang=es&lang=en'),
      get('/dashboard?other=1'),
      get(`/dashboard?lang=${'x'.repeat(100)}`),
      get('/dashboard/data', { cookie: 'mra_dashboard=; mra_dashboard=x' }),
      get('/dashboard', { cookie: `mra_dashboard=${'%'.repeat(500)}` }),
      get('/dashboard', { 'accept-language': `${'es;q=0.5,'.repeat(500)}` }),
    ];
    for (const res of await Promise.all(cases)) {
      expect(res.status, res.text.slice(0, 200)).toBeLessThan(500);
      if (res.status >= 400 && !String(res.headers['content-type']).startsWith('text/html')) {
        expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
      }
    }
  });
});

describe('sign-in attempts in a cluster', () => {
  it('allows each of n processes its share of the gateway’s attempts a minute', async () => {
    const config = admins.get('PE').config;
    const app = await createBaseApp({
      log: createLogger('silent'),
      trustProxy: false,
      rateLimitPerMinute: 6_000,
      serverFactory: undefined,
    });
    await registerDashboardRoutes(app, {
      config: { ...config, server: { ...config.server, processes: 2 } },
      store: gw.store,
      clock: () => new Date(),
    });
    const share = Math.ceil(LOGIN_ATTEMPTS_PER_MINUTE / 2);
    const statuses: number[] = [];
    for (let i = 0; i <= share; i++) {
      const res = await app.inject({
        method: 'POST',
        url: '/dashboard/login',
        headers: { 'content-type': FORM, accept: BROWSER_ACCEPT },
        payload: 'token=wrong&lang=en',
      });
      statuses.push(res.statusCode);
    }
    await app.close();
    expect(statuses).toEqual([...Array<number>(share).fill(401), 429]);
  });
});
