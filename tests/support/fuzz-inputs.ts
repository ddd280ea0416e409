/**
 * Inputs shared by the fuzzing property tests (tests/integration/input-fuzz.test.ts) and the fuzz script
 * (tests/fuzz/run.ts): the routes of an app as fastify lists them, path parameters filled with plausible
 * values, bodies and query strings at and beyond the boundaries of what the gateway accepts.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { REQUEST_ERROR_CODES } from '../../src/errors.ts';

export interface Route {
  method: string;
  path: string;
}

/** The routes of an app, from fastify's own tree (printRoutes), HEAD left out: it answers as GET does. */
export function routesOf(app: FastifyInstance): Route[] {
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
export function concrete(path: string): string {
  return path
    .replace(':issuer', 'CL')
    .replace(':aeoId', 'CL12345')
    .replace(':adminId', 'CL')
    .replace(/:[A-Za-z]+/g, () => crypto.randomUUID());
}

export const PROBLEM_CODES = new Set<string>(REQUEST_ERROR_CODES);

export const BOUNDARY_DATES = [
  '0000-01-01',
  '1899-12-31',
  '1900-01-01',
  '9999-12-31',
  '10000-01-01',
  '2023-02-29',
  '2026-04-31',
];
export const BOUNDARY_INSTANTS = [
  '0000-01-01T00:00:00Z',
  '1900-01-01T00:30:00+01:00',
  '9999-12-31T23:59:59Z',
  '9999-12-31T23:59:59-01:00',
  '2026-02-30T00:00:00Z',
  '2026-12-31T23:59:60Z',
  '2026-01-01T00:00:00+15:59',
];

export const decisionBody = (date: string) =>
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
export const feedbackBody = (at: string) =>
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
export const lookupBody = (asOf: string) =>
  JSON.stringify({ asOf, items: [{ issuer: 'CL', aeoId: 'CL12345' }] });
export const replayBody = (id: number) => `{"ids":[${id}]}`;
export const BOUNDARY_IDS = [0, 1, -1, 2 ** 53 - 1, 2 ** 63, 1.5];

/** Bodies shaped like the API's, with dates and numbers at and beyond their ranges. */
export const shapedBody = fc.oneof(
  fc.constantFrom(...BOUNDARY_DATES).map(decisionBody),
  fc.constantFrom(...BOUNDARY_INSTANTS).map(feedbackBody),
  fc.constantFrom(...BOUNDARY_INSTANTS).map(lookupBody),
  fc.constantFrom(...BOUNDARY_IDS).map(replayBody),
);
export const shapedBodies = (): string[] => [
  ...BOUNDARY_DATES.map(decisionBody),
  ...BOUNDARY_INSTANTS.flatMap((t) => [feedbackBody(t), lookupBody(t)]),
  ...BOUNDARY_IDS.map(replayBody),
];

/** Bodies a careless or hostile client sends: valid JSON of any shape, and the strict reader's refusals. */
export const hostileBody = fc.oneof(
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

export const QUERY_NAMES = [
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
export const BOUNDARY_VALUES = [
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
export const boundaryValue = fc.constantFrom(...BOUNDARY_VALUES, ...BOUNDARY_DATES, ...BOUNDARY_INSTANTS);
export const queryString = fc
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
