/**
 * The border-lookup lane (src/http/routes/api/operators-lane.ts) answers GET lookups on the socket before
 * fastify: every request is answered on a real socket (where the lane runs) exactly as the routes answer it
 * through `inject` (where it does not), and the lane takes only the well-formed lookups of a border token.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lane } from '../../src/http/base-app.ts';
import { type CompactBatchAnswer, expandCompact } from '../../src/lookup/answer-compact.ts';
import type { AeoStatusRecord } from '../../src/protocol/record.ts';
import { expectProblem, type HttpResponse } from '../support/gateway.ts';
import {
  bearer,
  type LookupSetup,
  lookupBatch,
  makeLookupSetup,
  type Replica,
  TOKENS,
} from '../support/lookup.ts';
import { freshRecord } from '../support/records.ts';

let setup: LookupSetup;
let gw: Replica;
let laneAnswered: string[] = [];
const records: AeoStatusRecord[] = [];

/** Text beyond ASCII in an answer: the lane must send its UTF-8 bytes exactly as the routes do. */
const BENEFIT = 'Menos inspección física — «prioridad» 優先';

beforeAll(async () => {
  setup = await makeLookupSetup();
  gw = await setup.replica({
    benefits: [{ id: 'menos-controles', description: BENEFIT, roles: undefined }],
  });
  await gw.gateway.readModelLoaded;
  for (let i = 0; i < 6; i += 1)
    records.push(freshRecord('CL', { status: i === 0 ? 'suspended' : 'certified' }));
  await setup.send(gw, records);
  const slot = gw.gateway.apiApp.laneSlot;
  const lane = slot.lane as Lane;
  slot.lane = (request, response) => {
    const answered = lane(request, response);
    if (answered) laneAnswered.push(`${request.method} ${request.url}`);
    return answered;
  };
});

afterAll(async () => {
  await setup?.close();
});

interface Ask {
  method?: 'GET' | 'HEAD' | 'DELETE' | 'POST';
  path: string;
  headers?: Record<string, string>;
}

async function viaInject(ask: Ask): Promise<HttpResponse> {
  const res = await gw.gateway.apiApp.inject({
    method: ask.method ?? 'GET',
    url: ask.path,
    headers: ask.headers ?? {},
  });
  return { status: res.statusCode, headers: res.headers as HttpResponse['headers'], text: res.body };
}

async function viaSocket(ask: Ask): Promise<HttpResponse> {
  const res = await request(`${gw.gateway.apiUrl}${ask.path}`, {
    method: ask.method ?? 'GET',
    headers: ask.headers ?? {},
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

/**
 * What both ways must agree on. The rate limit's remaining count moves between the two requests, and so does
 * the instant of a lookup that names none (now).
 */
function comparable(res: HttpResponse, ask: Ask) {
  const h = res.headers;
  const now = !ask.path.includes('asOf=');
  return {
    status: res.status,
    text: now ? res.text.replace(/"asOf":"[^"]+"/, '"asOf":"now"') : res.text,
    type: h['content-type'],
    length: h['content-length'],
    www: h['www-authenticate'],
    retry: h['retry-after'],
    limit: h['x-ratelimit-limit'],
    reset: h['x-ratelimit-reset'] === undefined ? undefined : 'set',
    remaining: h['x-ratelimit-remaining'] === undefined ? undefined : 'set',
  };
}

const border = bearer(TOKENS.border);
const asOf = encodeURIComponent(new Date(Date.now() + 60_000).toISOString());

describe('the border-lookup lane', () => {
  it('answers well-formed border lookups itself, exactly as the routes do', async () => {
    const r = records[0]!;
    const tin = r.operator.identifiers[0]!.value;
    const asks: Ask[] = [
      { path: `/api/v1/operators/CL/${r.operator.aeoId}`, headers: border },
      { path: `/api/v1/operators/CL/${records[1]!.operator.aeoId}?asOf=${asOf}`, headers: border },
      { path: '/api/v1/operators/CL/CLNOBODY1', headers: border },
      { path: '/api/v1/operators/ZZ/ZZNOBODY1', headers: border },
      { path: `/api/v1/operators?scheme=TIN&value=${tin}&country=CL`, headers: border },
      { path: `/api/v1/operators?value=${tin}&scheme=TIN`, headers: border },
      { path: '/api/v1/operators?scheme=TIN&value=NONE1&asOf=2026-01-01T00:00:00%2B02:00', headers: border },
    ];
    laneAnswered = [];
    for (const ask of asks) {
      const [lane, routes] = [await viaSocket(ask), await viaInject(ask)];
      expect(lane.status, lane.text.slice(0, 200)).toBe(200);
      expect(comparable(lane, ask), ask.path).toEqual(comparable(routes, ask));
    }
    expect(laneAnswered).toEqual(asks.map((a) => `GET ${a.path}`));
  });

  it('sends text beyond ASCII as its UTF-8 bytes, with their length', async () => {
    const ask = { path: `/api/v1/operators/CL/${records[1]!.operator.aeoId}`, headers: border };
    const lane = await viaSocket(ask);
    expect(lane.status, lane.text.slice(0, 200)).toBe(200);
    const answer = JSON.parse(lane.text) as { benefits: { description: string }[] };
    expect(answer.benefits.map((b) => b.description)).toEqual([BENEFIT]);
    expect(Number(lane.headers['content-length'])).toBe(Buffer.byteLength(lane.text, 'utf8'));
    expect(comparable(lane, ask)).toEqual(comparable(await viaInject(ask), ask));
  });

  it('echoes a request id it is given and makes one otherwise', async () => {
    const path = `/api/v1/operators/CL/${records[2]!.operator.aeoId}`;
    const given = await viaSocket({ path, headers: { ...border, 'x-request-id': 'border-42' } });
    expect(given.headers['x-request-id']).toBe('border-42');
    const made = await viaSocket({ path, headers: { ...border, 'x-request-id': 'not ok!' } });
    expect(String(made.headers['x-request-id'])).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('leaves every refusal and every other method to the routes, which answer as before', async () => {
    const aeoId = records[3]!.operator.aeoId;
    const one = `/api/v1/operators/CL/${aeoId}`;
    const asks: Ask[] = [
      { path: one },
      { path: one, headers: { authorization: 'Bearer short' } },
      { path: one, headers: bearer('x'.repeat(40)) },
      { path: one, headers: bearer(TOKENS.national) },
      { path: one, headers: { authorization: 'MRA something' } },
      { path: `/api/v1/operators/CL/${aeoId.toLowerCase()}`, headers: border },
      { path: `/api/v1/operators/cl/${aeoId}`, headers: border },
      { path: `${one}/`, headers: border },
      { path: `/api/v1/operators/CL/%41${aeoId.slice(1)}`, headers: border },
      { path: `${one}?asOf=2026-02-30T00:00:00Z`, headers: border },
      { path: `${one}?asOf=1800-01-01T00:00:00Z`, headers: border },
      { path: `${one}?asOf=yesterday`, headers: border },
      { path: `${one}?asOf=2026-01-01T00:00:00Z&asOf=2026-01-02T00:00:00Z`, headers: border },
      { path: `${one}?since=1`, headers: border },
      { path: `${one}?%zz=1`, headers: border },
      { path: '/api/v1/operators?scheme=TIN', headers: border },
      { path: '/api/v1/operators?scheme=tin&value=X1', headers: border },
      { path: '/api/v1/operators?scheme=TIN&value=X1&country=CHL', headers: border },
      { path: '/api/v1/operators?scheme=TIN&value=X1&other=1', headers: border },
      { path: '/api/v1/operators/lookup', headers: border },
      { method: 'HEAD', path: one, headers: border },
      { method: 'DELETE', path: one, headers: border },
    ];
    laneAnswered = [];
    for (const ask of asks) {
      const [lane, routes] = [await viaSocket(ask), await viaInject(ask)];
      expect(comparable(lane, ask), `${ask.method ?? 'GET'} ${ask.path}`).toEqual(comparable(routes, ask));
    }
    expect(laneAnswered).toEqual([]);
  });

  it('counts each lookup it answers in the metrics', async () => {
    const read = async () => {
      const res = await gw.api.request('/metrics', { method: 'GET', headers: bearer(TOKENS.monitoring) });
      const line = res.text.split('\n').find((l) => /^mra_lookup_duration_seconds_count/.test(l));
      return Number(line?.split(' ')[1] ?? Number.NaN);
    };
    const before = await read();
    for (let i = 0; i < 3; i += 1) {
      await viaSocket({ path: `/api/v1/operators/CL/${records[4]!.operator.aeoId}`, headers: border });
    }
    await viaSocket({ path: `/api/v1/operators/CL/${records[4]!.operator.aeoId}` });
    expect(await read()).toBe(before + 3);
  });
});

describe('manifest answers over the API', () => {
  it('answers in the compact form when asked, expanding to the full form, the default', async () => {
    const items = [
      ...records.map((r) => ({ issuer: 'CL', aeoId: r.operator.aeoId })),
      { scheme: 'TIN', value: records[1]!.operator.identifiers[0]!.value, country: 'CL' },
      { issuer: 'CL', aeoId: 'CLNOBODY2' },
    ];
    const body = { asOf: new Date().toISOString(), items };
    const full = await lookupBatch(gw, body);
    const compact = await gw.api.post('/api/v1/operators/lookup?form=compact', body, { headers: border });
    const explicit = await gw.api.post('/api/v1/operators/lookup?form=full', body, { headers: border });
    expect(full.status, full.text.slice(0, 200)).toBe(200);
    expect(compact.status, compact.text.slice(0, 200)).toBe(200);
    const parsed = JSON.parse(compact.text) as CompactBatchAnswer;
    expect(parsed.form).toBe('compact');
    expect(JSON.stringify(expandCompact(parsed))).toBe(full.text);
    expect(explicit.text).toBe(full.text);
    expect(compact.text.length).toBeLessThan(full.text.length);
  });

  it('refuses a form it does not know, and any other query parameter', async () => {
    const body = { items: [{ issuer: 'CL', aeoId: 'CLNOBODY3' }] };
    for (const query of ['form=tiny', 'form=compact&form=full', 'compact=1']) {
      const res = await gw.api.post(`/api/v1/operators/lookup?${query}`, body, { headers: border });
      expectProblem(res, 400, query === 'form=compact&form=full' ? 'BAD_REQUEST' : 'BODY_INVALID');
    }
  });
});
