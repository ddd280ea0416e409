/**
 * The lookup API's edges: a manifest of 3,000 identifiers answered one for one in order, clear 400 problem
 * documents for bad input, and scopes both ways (docs/threats.md 52): a border token reaches only the border
 * routes, other tokens and partners are refused there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LookupAnswer } from '../../src/lookup/answer.ts';
import { signRequestToken } from '../../src/partner-client/request-token.ts';
import type { AeoStatusRecord } from '../../src/protocol/record.ts';
import { expectProblem } from '../support/gateway.ts';
import {
  apiGet,
  bearer,
  type InjectedReplica,
  type LookupSetup,
  lookupBatch,
  makeLookupSetup,
  TOKENS,
} from '../support/lookup.ts';
import { freshRecord } from '../support/records.ts';

let setup: LookupSetup;
let gw: InjectedReplica;
const records: AeoStatusRecord[] = [];

beforeAll(async () => {
  setup = await makeLookupSetup();
  gw = await setup.composed();
  for (let i = 0; i < 100; i += 1) {
    records.push(freshRecord('CL', { status: i % 5 === 0 ? 'suspended' : 'certified' }));
  }
  const sent = await setup.send(gw, records);
  expect(sent.results.every((r) => r.outcome === 'accepted')).toBe(true);
});

afterAll(async () => {
  await setup?.close();
});

describe('batch lookup', () => {
  it('answers 3,000 identifiers one for one, in order', async () => {
    const items = Array.from({ length: 3_000 }, (_, i) => {
      const r = records[i % records.length]!;
      switch (i % 3) {
        case 0:
          return { issuer: 'CL', aeoId: r.operator.aeoId };
        case 1:
          return { scheme: 'TIN', value: r.operator.identifiers[0]!.value, country: 'CL' };
        default:
          return { issuer: 'CL', aeoId: `CLNONE${i}` };
      }
    });
    const started = Date.now();
    const res = await lookupBatch(gw, { asOf: new Date().toISOString(), items });
    const took = Date.now() - started;
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    const { answers } = JSON.parse(res.text) as { answers: LookupAnswer[] };
    expect(answers).toHaveLength(3_000);
    answers.forEach((answer, i) => {
      const r = records[i % records.length]!;
      expect(answer.query).toEqual(items[i]);
      if (i % 3 === 2) expect(answer.reason).toBe('unknown');
      else {
        expect(answer.operator?.aeoId).toBe(r.operator.aeoId);
        expect(answer.recognised).toBe(r.status === 'certified');
      }
    });
    // A loose bound for a shared test machine; bench/ measures the real figure.
    expect(took).toBeLessThan(10_000);
  });

  it('refuses more than 3,000 items, an empty manifest and malformed items', async () => {
    const item = { issuer: 'CL', aeoId: records[0]!.operator.aeoId };
    const tooMany = await lookupBatch(gw, { items: Array.from({ length: 3_001 }, () => item) });
    expect(expectProblem(tooMany, 400, 'BODY_INVALID').detail).toMatch(/3000/);
    expectProblem(await lookupBatch(gw, { items: [] }), 400, 'BODY_INVALID');
    expectProblem(
      await lookupBatch(gw, { items: [{ issuer: 'CL', aeoId: 'clnone1' }] }),
      400,
      'BODY_INVALID',
    );
    expectProblem(await lookupBatch(gw, { items: [{ issuer: 'CL' }] }), 400, 'BODY_INVALID');
    expectProblem(await lookupBatch(gw, { items: [item], asOf: 'yesterday' }), 400, 'BODY_INVALID');
  });
});

describe('bad input to single lookups', () => {
  it('refuses a lowercase aeoId or issuer, a bad asOf and an incomplete identifier', async () => {
    const id = records[0]!.operator.aeoId;
    expect(
      expectProblem(await apiGet(gw, `/operators/CL/${id.toLowerCase()}`), 400, 'BODY_INVALID').detail,
    ).toMatch(/aeoId/);
    expectProblem(await apiGet(gw, `/operators/cl/${id}`), 400, 'BODY_INVALID');
    expectProblem(await apiGet(gw, `/operators/CL/${id}?asOf=2026-13-01`), 400, 'BODY_INVALID');
    const feb30 = await apiGet(gw, `/operators/CL/${id}?asOf=2026-02-30T00:00:00Z`);
    expect(expectProblem(feb30, 400, 'BAD_REQUEST').detail).toMatch(/asOf/);
    expectProblem(await apiGet(gw, `/operators/CL/${id}?asOf=2026-01-01T25:00:00Z`), 400, 'BAD_REQUEST');
    expectProblem(await apiGet(gw, `/operators/CL/${id}?other=1`), 400, 'BODY_INVALID');
    expectProblem(await apiGet(gw, '/operators?scheme=TIN'), 400, 'BODY_INVALID');
  });
});

describe('scopes (docs/threats.md 52)', () => {
  const id = () => records[1]!.operator.aeoId;

  it('refuses publish and admin tokens on border routes, and asks for a token when none is given', async () => {
    expectProblem(await apiGet(gw, `/operators/CL/${id()}`, bearer(TOKENS.national)), 403, 'FORBIDDEN');
    expectProblem(await apiGet(gw, `/operators/CL/${id()}`, bearer(TOKENS.admin)), 403, 'FORBIDDEN');
    expectProblem(await lookupBatch(gw, { items: [] }, bearer(TOKENS.admin)), 403, 'FORBIDDEN');
    expectProblem(await apiGet(gw, `/operators/CL/${id()}`, {}), 401, 'UNAUTHORIZED');
  });

  it('refuses a partner (its request token) on border routes', async () => {
    const signer = setup.admins.get('CL').config.home.signers[0]!;
    const jws = await signRequestToken(signer, { iss: 'CL', aud: 'PE' });
    const res = await apiGet(gw, `/operators/CL/${id()}`, { authorization: `MRA ${jws}` });
    expectProblem(res, 403, 'FORBIDDEN');
  });

  it('refuses a border token on publishing, admin and partner routes', async () => {
    const auth = bearer(TOKENS.border);
    const decision = await gw.api.post('/api/v1/decisions', {}, { headers: auth });
    expectProblem(decision, 403, 'FORBIDDEN');
    expectProblem(await apiGet(gw, '/deliveries', auth), 403, 'FORBIDDEN');
    const replay = await gw.api.post('/api/v1/deliveries/replay', {}, { headers: auth });
    expectProblem(replay, 403, 'FORBIDDEN');
    const records = await gw.partner.post('/mra/v1/records', { records: [] }, { headers: auth });
    expectProblem(records, 403, 'FORBIDDEN');
    const feed = await gw.partner.request('/mra/v1/feed', { method: 'GET', headers: auth });
    expectProblem(feed, 403, 'FORBIDDEN');
  });

  it('lets the border token through', async () => {
    const res = await apiGet(gw, `/operators/CL/${id()}`);
    expect(res.status).toBe(200);
    expect((JSON.parse(res.text) as LookupAnswer).operator?.aeoId).toBe(id());
  });
});
