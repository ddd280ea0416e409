/**
 * The decisions API refuses what it must, with problem documents and stable codes, and leaves no trace
 * (docs/threats.md E for bad input); and it is closed to everyone but holders of the publish scope, while API
 * tokens open no partner route (docs/threats.md 52). On PostgreSQL, through the HTTP apps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { expectProblem } from '../support/gateway.ts';
import { composeTestGateway, type InjectedGateway } from '../support/inject.ts';
import {
  certifyBody,
  decide,
  freshAeoId,
  operatorDetails,
  postDecision,
  publishCounts,
  TOKENS,
  withApiClients,
} from '../support/publishing.ts';

let admins: TestAdmins;
let pe: InjectedGateway;
beforeAll(async () => {
  admins = makeAdmins(['PE', 'CL', 'AR'], { edit: (_id, raw) => withApiClients(raw) });
  pe = await composeTestGateway(admins.get('PE').config, 'postgres');
});
afterAll(async () => {
  await pe?.close();
  admins?.cleanup();
});

describe('invalid decisions', () => {
  it('answers each with a problem document and its code, and stores nothing', async () => {
    const known = freshAeoId();
    await decide(pe, certifyBody(known));
    const id = () => crypto.randomUUID();
    const fresh = freshAeoId();
    const cases: Record<string, [unknown, number, string]> = {
      'unknown member': [{ ...certifyBody(fresh), decisionId: id(), receivedAt: 'now' }, 400, 'BODY_INVALID'],
      'unknown operator member': [
        { ...certifyBody(fresh), decisionId: id(), operator: { ...operatorDetails(fresh), vip: true } },
        400,
        'BODY_INVALID',
      ],
      'lowercase aeoId': [{ ...certifyBody(fresh.toLowerCase()), decisionId: id() }, 400, 'BODY_INVALID'],
      'aeoId with a zero-width space': [
        { ...certifyBody(`${fresh}\u200b`), decisionId: id() },
        400,
        'BODY_INVALID',
      ],
      'identifier with full-width digits': [
        {
          ...certifyBody(fresh),
          decisionId: id(),
          operator: { ...operatorDetails(fresh), identifiers: [{ scheme: 'TIN', value: 'PE１２３' }] },
        },
        400,
        'BODY_INVALID',
      ],
      'impossible date': [
        { ...certifyBody(fresh), decisionId: id(), certifiedOn: '2025-02-30' },
        400,
        'BODY_INVALID',
      ],
      'date with a time': [
        { ...certifyBody(fresh), decisionId: id(), statusSince: '2025-03-01T00:00:00Z' },
        400,
        'BODY_INVALID',
      ],
      'unknown decision': [{ decisionId: id(), aeoId: known, decision: 'pardon' }, 400, 'BODY_INVALID'],
      'consent as a string': [
        { ...certifyBody(fresh), decisionId: id(), consent: 'true' },
        400,
        'BODY_INVALID',
      ],
      'decisionId not a UUID': [{ ...certifyBody(fresh), decisionId: 'D-1' }, 400, 'BODY_INVALID'],
      'no decisionId': [certifyBody(fresh), 400, 'BODY_INVALID'],
      'unknown role': [
        { ...certifyBody(fresh), decisionId: id(), operator: operatorDetails(fresh, ['smuggler']) },
        400,
        'BODY_INVALID',
      ],
      'certify of a new operator without details': [
        {
          decisionId: id(),
          aeoId: fresh,
          decision: 'certify',
          programme: 'AEO-F',
          certifiedOn: '2025-01-01',
        },
        400,
        'BODY_INVALID',
      ],
      'suspend of an unknown operator': [
        { decisionId: id(), aeoId: fresh, decision: 'suspend' },
        404,
        'NOT_FOUND',
      ],
      'amend of an unknown operator': [
        { decisionId: id(), aeoId: fresh, decision: 'amend', programme: 'AEO-S' },
        404,
        'NOT_FOUND',
      ],
      'an array': [[certifyBody(fresh)], 400, 'BODY_INVALID'],
      'not JSON': ['{"decisionId":', 400, 'BODY_INVALID'],
      'a __proto__ member': [
        `{"decisionId":"${id()}","aeoId":"${fresh}","decision":"suspend","__proto__":{"x":1}}`,
        400,
        'BODY_INVALID',
      ],
      'a duplicate member': [
        `{"decisionId":"${id()}","aeoId":"${known}","decision":"suspend","decision":"certify"}`,
        400,
        'BODY_INVALID',
      ],
      'a lone surrogate': [
        JSON.stringify({
          decisionId: id(),
          aeoId: known,
          decision: 'amend',
          operator: operatorDetails(known),
        }).replace(/"name":"[^"]*"/, '"name":"A\\ud800"'),
        400,
        'BODY_INVALID',
      ],
      'a byte order mark': [
        `\ufeff{"decisionId":"${id()}","aeoId":"${known}","decision":"suspend"}`,
        400,
        'BODY_INVALID',
      ],
      'nesting deeper than a decision': [
        `{"decisionId":"${id()}","aeoId":"${known}","decision":"amend","operator":{"identifiers":[{"scheme":[[1]]}]}}`,
        400,
        'BODY_INVALID',
      ],
    };
    const before = await publishCounts(pe.store);
    for (const [name, [body, status, code]] of Object.entries(cases)) {
      const res = await postDecision(pe, body);
      const problem = expectProblem(res, status, code);
      expect(problem.detail, name).not.toBe('');
      // These would pass a lenient JSON parser and then the schema: the strict parser must be what refuses.
      if (/duplicate|surrogate|byte order/.test(name)) expect(problem.detail, name).toMatch(/strict JSON/);
    }
    expect(await publishCounts(pe.store)).toEqual(before);
    const [row] = await pe.store.query('SELECT 1 FROM home_operator WHERE aeo_id = $1', [fresh]);
    expect(row).toBeUndefined();
  });

  it('names the member that failed', async () => {
    const aeoId = freshAeoId();
    const res = await postDecision(pe, { ...certifyBody(aeoId), decisionId: crypto.randomUUID(), extra: 1 });
    expect(expectProblem(res, 400, 'BODY_INVALID').detail).toMatch(/unknown member "extra"/);
    const date = await postDecision(pe, {
      ...certifyBody(aeoId),
      decisionId: crypto.randomUUID(),
      suspendedUntil: '2026-13-01',
    });
    expect(expectProblem(date, 400, 'BODY_INVALID').detail).toMatch(/\/suspendedUntil/);
  });

  it('accepts only application/json', async () => {
    const body = JSON.stringify({ ...certifyBody(freshAeoId()), decisionId: crypto.randomUUID() });
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'text/csv']) {
      const res = await pe.api.post('/api/v1/decisions', body, {
        contentType,
        headers: { authorization: `Bearer ${TOKENS.publish}` },
      });
      expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    }
  });
});

describe('who may publish (docs/threats.md 52)', () => {
  const body = () => ({ ...certifyBody(freshAeoId()), decisionId: crypto.randomUUID() });

  it('refuses a request without a valid token with 401', async () => {
    const before = await publishCounts(pe.store);
    const none = await postDecision(pe, body(), null);
    expectProblem(none, 401, 'UNAUTHORIZED');
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expectProblem(await postDecision(pe, body(), TOKENS.unknown), 401, 'UNAUTHORIZED');
    // A prefix of a real token, and a real token sent under another scheme.
    expectProblem(await postDecision(pe, body(), TOKENS.publish.slice(0, -1)), 401, 'UNAUTHORIZED');
    const basic = await pe.api.post('/api/v1/decisions', body(), {
      headers: { authorization: `Basic ${TOKENS.publish}` },
    });
    expectProblem(basic, 401, 'UNAUTHORIZED');
    expect(await publishCounts(pe.store)).toEqual(before);
  });

  it('refuses a token without the publish scope with 403', async () => {
    const before = await publishCounts(pe.store);
    const res = await postDecision(pe, body(), TOKENS.border);
    expect(expectProblem(res, 403, 'FORBIDDEN').detail).toMatch(/border-risk lacks the publish scope/);
    expect(await publishCounts(pe.store)).toEqual(before);
  });

  it('refuses any API token on the partner routes with 403', async () => {
    for (const token of [TOKENS.publish, TOKENS.border]) {
      const headers = { authorization: `Bearer ${token}` };
      const records = await pe.partner.post('/mra/v1/records', { records: ['x'] }, { headers });
      expectProblem(records, 403, 'FORBIDDEN');
      const wk = await pe.partner.request('/mra/v1/.well-known/mra-gateway', { method: 'GET', headers });
      expectProblem(wk, 403, 'FORBIDDEN');
    }
    // Without a token the partner route answers as usual (here: a receipt with a rejected record).
    const plain = await pe.partner.post('/mra/v1/records', { records: ['x'] });
    expect(plain.status).toBe(200);
  });

  it('serves the API only on its own app', async () => {
    const headers = { authorization: `Bearer ${TOKENS.publish}` };
    const onPartner = await pe.partner.post('/api/v1/decisions', body(), { headers });
    expectProblem(onPartner, 404, 'NOT_FOUND');
    const onApi = await pe.api.post('/mra/v1/records', { records: ['x'] }, { headers });
    expectProblem(onApi, 404, 'NOT_FOUND');
  });
});
