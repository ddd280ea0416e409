/**
 * docs/threats.md 74 on the real stack: PE receives from two partners, CL and AR, records of operators that share an
 * identifier (an EORI, a TIN); one of them is suspended. Through the HTTP apps, in both orders of arrival, single and
 * batch lookups and a replica that loads the same records from PostgreSQL all list every match and recognise
 * none; the issuing country or (issuer, aeoId) still answers for one operator.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ComposedGateway, composeGateway } from '../../src/compose.ts';
import type { GatewayConfig } from '../../src/config/types.ts';
import { createLogger } from '../../src/log.ts';
import type { LookupAnswer } from '../../src/lookup/answer.ts';
import type { AeoStatusRecord } from '../../src/protocol/record.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/types.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { type HttpClient, receiptOf } from '../support/gateway.ts';
import { injectClient } from '../support/inject.ts';
import { freshRecord, signAll } from '../support/records.ts';

const TOKEN = randomBytes(32).toString('base64url');
const auth = { authorization: `Bearer ${TOKEN}` };

let admins: TestAdmins;
let db: TestDatabase;
/** A gateway of PE composed without listening, with clients of its two apps. */
interface Pe {
  gateway: ComposedGateway;
  partner: HttpClient;
  api: HttpClient;
}
const running: { gateway: ComposedGateway; store: Store }[] = [];

async function startPe(): Promise<Pe> {
  const config: GatewayConfig = admins.get('PE').config;
  const store = await openStore({ kind: 'postgres', databaseUrl: db.url });
  const gateway = await composeGateway(config, { store, ownsStore: false, log: createLogger('silent') });
  await gateway.readModelLoaded;
  running.push({ gateway, store });
  return { gateway, partner: injectClient(gateway.app), api: injectClient(gateway.apiApp) };
}

async function send(gw: Pe, issuer: 'CL' | 'AR', record: AeoStatusRecord): Promise<void> {
  const jws = await signAll([record], admins.get(issuer).config.home.signers[0]!);
  const { receipt } = receiptOf(await gw.partner.post('/mra/v1/records', { records: jws }));
  expect(receipt.results.map((r) => r.outcome)).toEqual(['accepted']);
}

/** A record of `issuer` whose operator carries `shared` besides its own TIN. */
function holding(
  issuer: string,
  shared: { scheme: string; value: string },
  status: 'certified' | 'suspended',
) {
  const r = freshRecord(issuer, { status, statusSince: '2025-06-01' });
  return { ...r, operator: { ...r.operator, identifiers: [r.operator.identifiers[0]!, shared] } };
}

async function byIdentifier(gw: Pe, query: string): Promise<LookupAnswer> {
  const res = await gw.api.request(`/api/v1/operators?${query}`, { method: 'GET', headers: auth });
  expect(res.status, res.text.slice(0, 300)).toBe(200);
  return JSON.parse(res.text) as LookupAnswer;
}

async function batch(gw: Pe, items: unknown[]): Promise<LookupAnswer[]> {
  const res = await gw.api.post('/api/v1/operators/lookup', { items }, { headers: auth });
  expect(res.status, res.text.slice(0, 300)).toBe(200);
  return (JSON.parse(res.text) as { answers: LookupAnswer[] }).answers;
}

// Suspended first (CL then AR), and certified first (AR then CL).
const cases = [
  { shared: { scheme: 'EORI', value: 'SHARED0000001' }, order: ['CL', 'AR'] as const },
  { shared: { scheme: 'EORI', value: 'SHARED0000002' }, order: ['AR', 'CL'] as const },
];
const records = new Map<string, AeoStatusRecord>();
let gw: Pe;

beforeAll(async () => {
  const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
  admins = makeAdmins(['PE', 'CL', 'AR'], {
    edit: (_id, raw) => {
      raw.apiClients = [{ id: 'risk-engine', tokenSha256: sha256(TOKEN), scopes: ['border'] }];
      raw.outbound = { ...raw.outbound, pullIntervalMs: 0, reconcileIntervalMs: 0 };
    },
  });
  db = await createTestDatabase();
  gw = await startPe();
  for (const { shared, order } of cases) {
    for (const issuer of order) {
      const record = holding(issuer, shared, issuer === 'CL' ? 'suspended' : 'certified');
      records.set(`${shared.value}:${issuer}`, record);
      await send(gw, issuer, record);
    }
  }
});

afterAll(async () => {
  for (const r of running.splice(0)) {
    await r.gateway.close();
    await r.store.close();
  }
  await db?.drop();
  admins?.cleanup();
});

function expectBoth(answer: LookupAnswer | undefined, value: string): void {
  expect(answer).toMatchObject({ recognised: false, reason: 'ambiguous-identifier', benefits: [] });
  expect(answer!.operator).toBeUndefined();
  expect(answer!.matches?.map((m) => [m.issuer, m.aeoId, m.status, m.recognised, m.reason])).toEqual([
    ['AR', records.get(`${value}:AR`)!.operator.aeoId, 'certified', true, undefined],
    ['CL', records.get(`${value}:CL`)!.operator.aeoId, 'suspended', false, 'suspended'],
  ]);
}

describe('a shared identifier, one holder suspended (docs/threats.md 74)', () => {
  it('lists both holders and recognises neither, whichever arrived first', async () => {
    for (const { shared } of cases) {
      expectBoth(await byIdentifier(gw, `scheme=EORI&value=${shared.value}`), shared.value);
    }
  });

  it('answers the same in a batch, item by item', async () => {
    const items = cases.map(({ shared }) => shared);
    const answers = await batch(gw, [
      ...items,
      { issuer: 'AR', aeoId: records.get('SHARED0000001:AR')!.operator.aeoId },
    ]);
    for (const [i, { shared }] of cases.entries()) expectBoth(answers[i], shared.value);
    expect(answers[2]).toMatchObject({ recognised: true, operator: { issuer: 'AR' } });
  });

  it('answers for one holder when the issuing country names one', async () => {
    for (const { shared } of cases) {
      const cl = await byIdentifier(gw, `scheme=EORI&value=${shared.value}&country=CL`);
      expect(cl).toMatchObject({ recognised: false, reason: 'suspended', operator: { issuer: 'CL' } });
      const ar = await byIdentifier(gw, `scheme=EORI&value=${shared.value}&country=AR`);
      expect(ar).toMatchObject({ recognised: true, operator: { issuer: 'AR' } });
      expect(ar.matches).toBeUndefined();
    }
  });

  it('answers the same from a replica that loads the records from PostgreSQL', async () => {
    const loaded = await startPe();
    for (const { shared } of cases) {
      expectBoth(await byIdentifier(loaded, `scheme=EORI&value=${shared.value}`), shared.value);
    }
  });
});
