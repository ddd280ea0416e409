/**
 * docs/threats.md 73, 78, 79 over real HTTP on PostgreSQL: a date the store cannot hold refuses its item alone (a
 * record of a batch, a decision, an import line) and never a 5xx; every JSON body is read by the one strict
 * reader (a duplicate member in any envelope is a 400); every query parameter is bounded (a 400, never a 500).
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFeedCursor, encodeSnapshotCursor } from '../../src/partner-api/cursor.ts';
import { signRecord } from '../../src/publishing/sign-record.ts';
import type { TestAdmins } from '../support/admins.ts';
import { getPartnerRoute, makeLinkedAdmins, requestToken } from '../support/exchange.ts';
import {
  expectProblem,
  type HttpResponse,
  httpRequest,
  outcomes,
  postTo,
  startTestGateway,
  type TestGateway,
} from '../support/gateway.ts';
import { certifyBody, freshAeoId, importProgress, postImport } from '../support/publishing.ts';
import { freshRecord } from '../support/records.ts';

const TOKEN = randomBytes(32).toString('base64url');
const auth = { authorization: `Bearer ${TOKEN}` };

let admins: TestAdmins;
let pe: TestGateway;
beforeAll(async () => {
  admins = await makeLinkedAdmins(['PE', 'CL'], {
    edit: (_id, raw) => {
      raw.apiClients = [
        ...(raw.apiClients ?? []),
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

const cl = () => admins.get('CL').config.home.signers[0]!;
const api = (path: string, method: 'GET' | 'POST' = 'GET', body?: string) =>
  httpRequest(`${pe.gateway.apiUrl}/api/v1${path}`, {
    method,
    headers: body === undefined ? auth : { ...auth, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body }),
  });
const partnerGet = async (path: string): Promise<HttpResponse> =>
  getPartnerRoute(pe, path, `MRA ${await requestToken(cl(), 'CL', 'PE')}`);

describe('73: a date the store cannot hold', () => {
  it('refuses that record alone, and the retry gets the same outcomes, never a 5xx', async () => {
    const year0 = freshRecord('CL', { statusSince: '0000-01-01' });
    const records = [freshRecord('CL'), year0, freshRecord('CL', { certifiedOn: '2019-03-01' })];
    const jws = await Promise.all(records.map((r) => signRecord(r, cl())));
    const first = await pe.send(jws);
    expect(outcomes(first.results)).toEqual(['accepted', 'rejected:SCHEMA_INVALID', 'accepted']);
    expect(first.results[1]!.detail).toMatch(/\/statusSince/);
    const retry = await pe.send(jws);
    expect(outcomes(retry.results)).toEqual(['duplicate', 'rejected:SCHEMA_INVALID', 'duplicate']);
    for (const variant of [
      { issuedAt: '0000-01-01T00:00:00Z' },
      { certifiedOn: '1899-12-31' },
      { lastValidatedOn: '2023-02-29' },
      { status: 'suspended' as const, suspendedUntil: '10000-01-01' },
    ]) {
      const sent = await pe.send([await signRecord(freshRecord('CL', variant), cl())]);
      expect(outcomes(sent.results), JSON.stringify(variant)).toEqual(['rejected:SCHEMA_INVALID']);
    }
  });

  it('refuses a decision with 400 BODY_INVALID naming the member', async () => {
    const aeoId = freshAeoId();
    for (const member of ['certifiedOn', 'statusSince', 'lastValidatedOn']) {
      const body = { ...certifyBody(aeoId), decisionId: crypto.randomUUID(), [member]: '0000-01-01' };
      const res = await api('/decisions', 'POST', JSON.stringify(body));
      expect(expectProblem(res, 400, 'BODY_INVALID').detail, member).toMatch(new RegExp(`/${member}`));
    }
  });

  it('rejects an import line with its number and finishes the import', async () => {
    const importId = crypto.randomUUID();
    const lines = [
      certifyBody(freshAeoId()),
      certifyBody(freshAeoId(), { certifiedOn: '0000-01-01' }),
      certifyBody(freshAeoId(), { statusSince: '9999-12-31' }),
    ].map((l) => JSON.stringify({ decisionId: crypto.randomUUID(), ...l }));
    const res = await postImport(pe, `${lines.join('\n')}\n`, { importId, token: TOKEN });
    expect(res.status, res.text.slice(0, 300)).toBe(201);
    const progress = await importProgress(pe, importId).catch(async () =>
      JSON.parse((await api(`/register/imports/${importId}`)).text),
    );
    expect(progress).toMatchObject({ state: 'finished', linesRead: 3, applied: 2, rejected: 1 });
    expect(progress.errors).toEqual([
      { line: 2, code: 'BODY_INVALID', detail: expect.stringMatching(/\/certifiedOn/) },
    ]);
  });

  it('refuses CSV cells the store or a partner cannot hold, line by line, and ends every import', async () => {
    const header = 'aeoId,decision,programme,certifiedOn,name,street,city,country,roles,identifiers,consent';
    const row = (aeoId: string, name: string, identifiers = 'TIN:PE1') =>
      `${aeoId},certify,AEO-F,2020-01-01,${name},Av. 1,Lima,PE,exporter,${identifiers},false`;
    const body = [
      header,
      row(freshAeoId(), 'Good S.A.'),
      row(freshAeoId(), 'Nul\u0000S.A.'),
      row(freshAeoId(), 'Bell\u0007S.A.'),
      row(freshAeoId(), 'Good S.A.', 'TIN\u0000PE1'),
      row(freshAeoId(), 'Old S.A.').replace('2020-01-01', '0000-01-01'),
    ].join('\n');
    const importId = crypto.randomUUID();
    const res = await postImport(pe, `${body}\n`, { importId, token: TOKEN, contentType: 'text/csv' });
    expect(res.status, res.text.slice(0, 300)).toBe(201);
    const progress = JSON.parse((await api(`/register/imports/${importId}`)).text);
    expect(progress).toMatchObject({ state: 'finished', linesRead: 5, applied: 1, rejected: 4 });
    expect(progress.errors.map((e: { line: number; code: string }) => [e.line, e.code])).toEqual([
      [3, 'BODY_INVALID'],
      [4, 'BODY_INVALID'],
      [5, 'BODY_INVALID'],
      [6, 'BODY_INVALID'],
    ]);
    // A header the import cannot read fails it, with a reason that can be stored whatever the header holds.
    const failedId = crypto.randomUUID();
    const bad = await postImport(pe, 'aeoId,decision,v\u0000ip\n', {
      importId: failedId,
      token: TOKEN,
      contentType: 'text/csv',
    });
    expectProblem(bad, 400, 'BODY_INVALID');
    const failed = JSON.parse((await api(`/register/imports/${failedId}`)).text);
    expect(failed).toMatchObject({ state: 'failed', failure: expect.stringMatching(/unknown column/) });
  });

  it('refuses feedback and lookups at a date out of range with a 400', async () => {
    const item = {
      issuer: 'CL',
      aeoId: 'CL12345',
      benefit: 'fewer-checks',
      applied: true,
      consignmentRef: 'MRN-1',
      at: '0000-01-01T00:00:00Z',
    };
    expectProblem(await api('/feedback', 'POST', JSON.stringify({ items: [item] })), 400, 'BAD_REQUEST');
    for (const q of [
      'from=0000-01-01T00:00:00Z',
      'to=9999-12-31T23:59:59-01:00',
      'from=2026-02-30T00:00:00Z',
    ]) {
      expectProblem(await api(`/feedback/summary?${q}`), 400, 'BAD_REQUEST');
    }
    expectProblem(await api('/operators/CL/CL12345?asOf=0000-01-01T00:00:00Z'), 400, 'BAD_REQUEST');
  });
});

describe('78: one strict reader for every JSON body', () => {
  it('refuses a duplicate member in the records envelope, and every other flaw of the strict reader', async () => {
    const [a, b] = await Promise.all([freshRecord('CL'), freshRecord('CL')].map((r) => signRecord(r, cl())));
    const bodies: Record<string, string | Uint8Array> = {
      duplicate: `{"records":["${a}"],"records":["${b}"]}`,
      proto: `{"records":["${a}"],"__proto__":{"x":1}}`,
      bom: `\uFEFF{"records":["${a}"]}`,
      loneSurrogate: `{"records":["${a}\\ud800"]}`,
      invalidUtf8: Buffer.concat([Buffer.from('{"records":["'), Buffer.of(0xc3, 0x28), Buffer.from('"]}')]),
      deep: `{"records":["${a}"],"x":${'['.repeat(5000)}${']'.repeat(5000)}}`,
    };
    for (const [name, body] of Object.entries(bodies)) {
      const res = await postTo(`${pe.url}/mra/v1/records`, body);
      expect(expectProblem(res, 400, 'BODY_INVALID').detail, name).toMatch(/strict JSON/);
    }
    const stored = await pe.store.query('SELECT 1 FROM inbound_record WHERE jws = ANY($1)', [[a, b]]);
    expect(stored).toEqual([]);
  });

  it('reads the API bodies the same way: decisions, feedback, lookups, replay, subscriptions', async () => {
    const paths: Record<string, string> = {
      '/decisions': '{"decisionId":"x","decisionId":"y"}',
      '/feedback': '{"items":[],"items":[]}',
      '/operators/lookup': '{"items":[{"issuer":"CL","aeoId":"CL1","aeoId":"CL2"}]}',
      '/deliveries/replay': '{"partner":"CL","partner":"AR"}',
      '/subscriptions': '{"url":"https://127.0.0.1/a","url":"https://127.0.0.1/b"}',
    };
    for (const [path, body] of Object.entries(paths)) {
      expect(expectProblem(await api(path, 'POST', body), 400, 'BODY_INVALID').detail, path).toMatch(
        /duplicate/,
      );
    }
  });
});

describe('79: query strings bounded', () => {
  const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64url');

  it('refuses forged cursors and limits beyond range on feed and snapshot, never a 500', async () => {
    const bad = [
      `/snapshot?after=${encodeSnapshotCursor({ highWater: 0n, asOfMs: 8_640_000_000_000_001, lastAeoId: '' })}`,
      `/snapshot?after=${b64('snapshot/1:0:9999999999999999:')}`,
      `/snapshot?after=${b64('snapshot/1:999999999999999999:0:')}`,
      `/snapshot?after=${b64('snapshot/1:9999999999999999999:0:')}`,
      `/feed?after=${b64('feed/1:9999999999999999999')}`,
      `/feed?after=${b64('feed/1:-1')}`,
      '/feed?after=',
      '/feed?limit=0',
      '/feed?limit=1001',
      '/feed?limit=9999999',
      '/feed?limit=99999999',
      '/feed?limit=1&limit=2',
      '/feed?limit=-1',
      '/feed?limit=1e3',
      '/feed?after=%zz',
      '/feed?other=1',
      '/snapshot?limit=1&limit=1',
      '/snapshot?limit=0',
    ];
    for (const path of bad) expectProblem(await partnerGet(path), 400, 'BAD_REQUEST');
    // A well-formed cursor beyond the end of the feed is an empty page that stays where it is.
    const far = encodeFeedCursor({ seq: 999_999_999_999_999_999n });
    const page = await partnerGet(`/feed?after=${far}&limit=1000`);
    expect(page.status).toBe(200);
    expect(JSON.parse(page.text)).toEqual({ records: [], next: far });
  });

  it('refuses cursors, limits and repeats beyond range on every API route', async () => {
    const cases: string[] = [
      '/deliveries?after=9999999999999999',
      '/deliveries?after=-1',
      '/deliveries?limit=0',
      '/deliveries?limit=1001',
      '/deliveries?limit=1&limit=2',
      '/deliveries?state=dead&state=pending',
      '/register/imports?limit=5',
      '/register/imports?importId=a&importId=b',
      `/register/imports/${crypto.randomUUID()}?x=1`,
      '/reconciliation?limit=501',
      '/reconciliation?limit=1&limit=2',
      '/operators?scheme=TIN&value=CL1&scheme=EORI',
      '/operators/CL/CL12345?asOf=2026-01-01T00:00:00Z&asOf=2026-01-02T00:00:00Z',
      '/operators/CL/CL12345?asOf=%E0%A4%A',
      '/feedback/summary?partner=CL&partner=AR',
      '/feedback/summary?from=2026-01-01T00:00:00Z&from=2026-01-02T00:00:00Z',
      '/subscriptions?x=1',
    ];
    for (const path of cases) {
      const res = await api(path);
      expect(res.status, `${path}: ${res.text.slice(0, 200)}`).toBe(400);
      expect(['BAD_REQUEST', 'BODY_INVALID'], path).toContain(JSON.parse(res.text).code);
    }
    expectProblem(
      await httpRequest(`${pe.url}/mra/v1/.well-known/mra-gateway?x=1`, { method: 'GET' }),
      400,
      'BAD_REQUEST',
    );
    expectProblem(await api('/deliveries?after=1&after=2'), 400, 'BAD_REQUEST');
  });
});
