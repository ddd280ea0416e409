/**
 * Property tests over every route of both listeners (found from the apps themselves, so a new route is fuzzed
 * without being listed here): random and boundary JSON bodies and query strings never get a 5xx, and every
 * refusal is a problem document with a stable code (docs/threats.md 78, 79; "nothing reaches a 5xx").
 */
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUEST_ERROR_CODES } from '../../src/errors.ts';
import type { TestAdmins } from '../support/admins.ts';
import { makeLinkedAdmins, requestToken } from '../support/exchange.ts';
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

interface Route {
  method: string;
  path: string;
}

/** The routes of an app, from fastify's own tree (printRoutes), HEAD left out: it answers as GET does. */
function routesOf(app: FastifyInstance): Route[] {
  const stack: string[] = [];
  const routes: Route[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const at = line.indexOf('── ');
    if (at === -1) continue;
    const depth = Math.floor(at / 4);
    const m = /^(\S+) \(([A-Z, ]+)\)$/.exec(line.slice(at + 3).trim());
    if (m === null) continue;
    stack.length = depth;
    stack.push(m[1]!);
    for (const method of m[2]!.split(', ')) {
      if (method !== 'HEAD') routes.push({ method, path: stack.join('') });
    }
  }
  return routes;
}

/** Path parameters filled with plausible values, so requests reach the handlers rather than the router. */
function concrete(path: string): string {
  return path
    .replace(':issuer', 'CL')
    .replace(':aeoId', 'CL12345')
    .replace(':adminId', 'CL')
    .replace(/:[A-Za-z]+/g, () => crypto.randomUUID());
}

const PROBLEM_CODES = new Set<string>(REQUEST_ERROR_CODES);

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

const BOUNDARY_DATES = [
  '0000-01-01',
  '1899-12-31',
  '1900-01-01',
  '9999-12-31',
  '10000-01-01',
  '2023-02-29',
  '2026-04-31',
];
const BOUNDARY_INSTANTS = [
  '0000-01-01T00:00:00Z',
  '1900-01-01T00:30:00+01:00',
  '9999-12-31T23:59:59Z',
  '9999-12-31T23:59:59-01:00',
  '2026-02-30T00:00:00Z',
  '2026-12-31T23:59:60Z',
  '2026-01-01T00:00:00+15:59',
];

const decisionBody = (date: string) =>
  JSON.stringify({
    decisionId: crypto.randomUUID(),
    aeoId: `PE${randomBytes(4).readUInt32BE(0)}`,
    decision: 'certify',
    programme: 'AEO-F',
    certifiedOn: date,
    statusSince: date,
    operator: {
      identifiers: [],
      name: 'N',
      address: { street: 'S', city: 'C', country: 'PE' },
      roles: ['exporter'],
    },
  });
const feedbackBody = (at: string) =>
  JSON.stringify({
    items: [
      {
        issuer: 'CL',
        aeoId: 'CL12345',
        benefit: 'fewer-checks',
        applied: true,
        consignmentRef: `MRN-${randomBytes(4).toString('hex')}`,
        at,
      },
    ],
  });
const lookupBody = (asOf: string) => JSON.stringify({ asOf, items: [{ issuer: 'CL', aeoId: 'CL12345' }] });
const replayBody = (id: number) => `{"ids":[${id}]}`;
const BOUNDARY_IDS = [0, 1, -1, 2 ** 53 - 1, 2 ** 63, 1.5];

/** Bodies shaped like the API's, with dates and numbers at and beyond their ranges. */
const shapedBody = fc.oneof(
  fc.constantFrom(...BOUNDARY_DATES).map(decisionBody),
  fc.constantFrom(...BOUNDARY_INSTANTS).map(feedbackBody),
  fc.constantFrom(...BOUNDARY_INSTANTS).map(lookupBody),
  fc.constantFrom(...BOUNDARY_IDS).map(replayBody),
);
const shapedBodies = (): string[] => [
  ...BOUNDARY_DATES.map(decisionBody),
  ...BOUNDARY_INSTANTS.flatMap((t) => [feedbackBody(t), lookupBody(t)]),
  ...BOUNDARY_IDS.map(replayBody),
];

/** Bodies a careless or hostile client sends: valid JSON of any shape, and the strict reader's refusals. */
const hostileBody = fc.oneof(
  shapedBody,
  fc.json({ depthSize: 'small' }),
  fc.jsonValue().map((v) => JSON.stringify({ records: [JSON.stringify(v)], items: [v] })),
  fc.constantFrom(
    '',
    '{',
    '{"records":[],"records":[]}',
    '{"items":[{"at":"0000-01-01T00:00:00Z"}]}',
    '{"__proto__":{"admin":true}}',
    '{"constructor":{"prototype":{}}}',
    `\uFEFF{}`,
    '{"a":"\\ud800"}',
    `{"x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
    '{"ids":[1e400]}',
    '{"ids":[9007199254740993]}',
    '{"ids":[-0]}',
    '{"partner":"CL","ids":[9223372036854775807]}',
    '{"statusSince":"0000-01-01","certifiedOn":"9999-12-31"}',
    'null',
    '[]',
    '"text"',
  ),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1')),
);

const QUERY_NAMES = [
  'after',
  'limit',
  'asOf',
  'from',
  'to',
  'state',
  'partner',
  'importId',
  'scheme',
  'value',
];
const BOUNDARY_VALUES = [
  '',
  '0',
  '-1',
  '1',
  '1000',
  '1001',
  '9999999',
  '9223372036854775807',
  '9223372036854775808',
  '99999999999999999999999',
  '1e3',
  ' 1',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59-01:00',
  '2026-02-30T00:00:00Z',
  '2026-12-31T23:59:60Z',
  Buffer.from('snapshot/1:0:9999999999999999:').toString('base64url'),
  Buffer.from('snapshot/1:99999999999999999:0:').toString('base64url'),
  Buffer.from('feed/1:999999999999999999').toString('base64url'),
  'ZmVlZC8xOjA',
  'dead',
  'CL',
  '%zz',
  '%E0%A4%A',
  '%00',
  'a'.repeat(3000),
];
const boundaryValue = fc.constantFrom(...BOUNDARY_VALUES, ...BOUNDARY_DATES, ...BOUNDARY_INSTANTS);
const queryString = fc
  .array(
    fc.tuple(
      fc.oneof(
        { arbitrary: fc.constantFrom(...QUERY_NAMES), weight: 4 },
        { arbitrary: fc.string({ maxLength: 8 }), weight: 1 },
      ),
      fc.oneof(
        { arbitrary: boundaryValue, weight: 3 },
        { arbitrary: fc.string({ maxLength: 40 }), weight: 1 },
      ),
      fc.boolean(),
    ),
    { maxLength: 4 },
  )
  .map((pairs) =>
    pairs.map(([k, v, raw]) => (raw ? `${k}=${v}` : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)),
  )
  .map((parts) => parts.join('&'));

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
