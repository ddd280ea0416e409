/**
 * Property tests over every route of both listeners (found from the apps themselves, so a new route is fuzzed
 * without being listed here): random and boundary JSON bodies and query strings never get a 5xx, and every
 * refusal is a problem document with a stable code (docs/threats.md 78, 79; "nothing reaches a 5xx").
 */
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestAdmins } from '../support/admins.ts';
import { makeLinkedAdmins, requestToken } from '../support/exchange.ts';
import {
  BOUNDARY_DATES,
  BOUNDARY_INSTANTS,
  BOUNDARY_VALUES,
  concrete,
  hostileBody,
  PROBLEM_CODES,
  QUERY_NAMES,
  queryString,
  routesOf,
  shapedBodies,
} from '../support/fuzz-inputs.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

const TOKEN = randomBytes(32).toString('base64url');
const RUNS = 40;

let admins: TestAdmins;
let pe: TestGateway;
beforeAll(async () => {
  admins = await makeLinkedAdmins(['PE', 'CL'], {
    edit: (_id, raw) => {
      raw.server = { ...raw.server, rateLimitPerMinute: 1_000_000 };
      raw.apiClients = [
        {
          id: 'everything',
          tokenSha256: createHash('sha256').update(TOKEN).digest('hex'),
          scopes: ['publish', 'border', 'admin', 'monitoring'],
        },
      ];
    },
  });
  pe = await startTestGateway(admins.get('PE').config, 'postgres');
});
afterAll(async () => {
  await pe?.close();
  admins?.cleanup();
});

async function expectAnswered(app: FastifyInstance, request: InjectOptions, what: string): Promise<void> {
  const res = await app.inject(request);
  const where = `${what}: ${request.method} ${String(request.url).slice(0, 200)} → ${res.statusCode} ${res.body.slice(0, 200)}`;
  expect(res.statusCode, where).toBeLessThan(500);
  if (res.statusCode >= 400) {
    expect(String(res.headers['content-type']), where).toMatch(/^application\/problem\+json/);
    const problem = JSON.parse(res.body) as { code?: unknown; status?: unknown };
    expect(PROBLEM_CODES.has(String(problem.code)), where).toBe(true);
    expect(problem.status, where).toBe(res.statusCode);
  }
}

async function headersFor(path: string): Promise<Record<string, string>> {
  if (path.startsWith('/api/')) return { authorization: `Bearer ${TOKEN}` };
  if (path === '/mra/v1/feed' || path === '/mra/v1/snapshot') {
    const signer = admins.get('CL').config.home.signers[0]!;
    return { authorization: `MRA ${await requestToken(signer, 'CL', 'PE')}` };
  }
  return {};
}

describe.each(['partner', 'api'] as const)('the %s listener', (which) => {
  const app = () => (which === 'partner' ? pe.gateway.app : pe.gateway.apiApp);

  it('has the routes it is known to have (the fuzzing below covers each of them)', () => {
    const routes = routesOf(app()).map((r) => `${r.method} ${r.path}`);
    expect(routes).toContain(which === 'partner' ? 'POST /mra/v1/records' : 'POST /api/v1/decisions');
    expect(routes).toContain(which === 'partner' ? 'GET /mra/v1/snapshot' : 'GET /api/v1/deliveries');
    expect(routes.length).toBeGreaterThan(which === 'partner' ? 5 : 15);
  });

  it('answers random and boundary JSON bodies on every route with a problem or a success', async () => {
    for (const route of routesOf(app()).filter((r) => r.method !== 'GET')) {
      for (const body of shapedBodies()) {
        const url = concrete(route.path);
        const headers = { ...(await headersFor(route.path)), 'content-type': 'application/json' };
        await expectAnswered(app(), { method: route.method as 'POST', url, headers, body }, 'shaped body');
      }
      await fc.assert(
        fc.asyncProperty(hostileBody, async (body) => {
          const url = concrete(route.path);
          const headers = { ...(await headersFor(route.path)), 'content-type': 'application/json' };
          await expectAnswered(app(), { method: route.method as 'POST', url, headers, body }, 'body');
        }),
        { numRuns: RUNS },
      );
    }
  });

  it('answers every boundary value of every query parameter, alone and repeated, on every route', async () => {
    for (const route of routesOf(app())) {
      const headers = await headersFor(route.path);
      for (const name of QUERY_NAMES) {
        for (const value of [...BOUNDARY_VALUES, ...BOUNDARY_DATES, ...BOUNDARY_INSTANTS]) {
          for (const query of [`${name}=${value}`, `${name}=${value}&${name}=${value}`]) {
            // feed and snapshot: a token is good for one request only.
            const auth = route.path.startsWith('/mra/v1/') ? await headersFor(route.path) : headers;
            const url = `${concrete(route.path)}?${query}`;
            const method = route.method as 'GET';
            const body = route.method === 'GET' || route.method === 'DELETE' ? {} : { payload: '{}' };
            const withType = 'payload' in body ? { ...auth, 'content-type': 'application/json' } : auth;
            await expectAnswered(app(), { method, url, headers: withType, ...body }, 'boundary query');
          }
        }
      }
    }
  });

  it('answers random and boundary query strings on every route with a problem or a success', async () => {
    for (const route of routesOf(app())) {
      await fc.assert(
        fc.asyncProperty(queryString, async (query) => {
          const url = `${concrete(route.path)}?${query}`;
          const headers = await headersFor(route.path);
          const method = route.method as 'GET';
          const body = route.method === 'GET' || route.method === 'DELETE' ? {} : { payload: '{}' };
          const withType = 'payload' in body ? { ...headers, 'content-type': 'application/json' } : headers;
          await expectAnswered(app(), { method, url, headers: withType, ...body }, 'query');
        }),
        { numRuns: RUNS },
      );
    }
  });
});
