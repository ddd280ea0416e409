/**
 * Monitoring summaries between real gateways over real HTTP, each on its own PostgreSQL database: PE issues a
 * summary about CL's operators at its border and pushes it; CL keeps it with a signed receipt that PE verifies
 * and keeps; CL pulls PE's summary feed too (`duplicate`); a period is revised only when its figures change; a
 * push to a partner that is down is retried until it is delivered; and BO, issuing on its own, sends each
 * partner the previous month's summary at start, and nothing more while nothing changed.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { borderFigures } from '../../src/monitoring/border-figures.ts';
import { previousMonth } from '../../src/monitoring/summaries/service.ts';
import type { Partner } from '../../src/mra/types.ts';
import { checkReceipt } from '../../src/partner-client/receipt-check.ts';
import type { MonitoringSummary } from '../../src/protocol/monitoring-summary.ts';
import type { Store } from '../../src/store/types.ts';
import type { TestAdmins } from '../support/admins.ts';
import { API_TOKENS, bearer, getPartnerRoute, makeLinkedAdmins, requestToken } from '../support/exchange.ts';
import {
  decodePayload,
  expectProblem,
  type HttpResponse,
  openTestStore,
  startTestGateway,
  type TestGateway,
} from '../support/gateway.ts';
import { daysAgo, heldFrom, plantLookups } from '../support/summaries.ts';

let admins: TestAdmins;
const stores: { store: Store; dispose(): Promise<void> }[] = [];
let pe: TestGateway;
let cl: TestGateway;
let bo: TestGateway | undefined;
let clAtPe: Partner;
const day = daysAgo(1);

interface Issued {
  created: boolean;
  summary: MonitoringSummary;
  jws: string;
  push: { state: string; attempts: number; lastError: string | null; receiptId: string | null };
}

const issue = (gw: TestGateway, body: unknown): Promise<HttpResponse> =>
  gw.api.post('/api/v1/monitoring/summaries', body, { headers: bearer(API_TOKENS.monitoring) });

async function issued(res: HttpResponse, status: number): Promise<Issued> {
  expect(res.status, res.text.slice(0, 300)).toBe(status);
  return JSON.parse(res.text) as Issued;
}

const digestOf = (jws: string) => createHash('sha256').update(jws, 'utf8').digest('base64url');

async function feedAs(gw: TestGateway, caller: string, query = ''): Promise<HttpResponse> {
  const home = gw.gateway.config.home.adminId;
  const token = await requestToken(admins.get(caller).config.home.signers[0]!, caller, home);
  return getPartnerRoute(gw, `/monitoring${query}`, `MRA ${token}`);
}

/** Polls `check` every 250 ms until it holds, for at most `ms`. */
async function eventually(check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  for (let waited = 0; waited <= ms; waited += 250) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`not within ${ms} ms`);
}

beforeAll(async () => {
  admins = await makeLinkedAdmins(['PE', 'CL', 'BO'], {
    edit: (id, raw) => {
      raw.monitoring = { summaries: { auto: id === 'BO' } };
    },
  });
  for (let i = 0; i < 3; i += 1) stores.push(await openTestStore('postgres'));
  pe = await startTestGateway(admins.get('PE').config, 'postgres', { store: stores[0]!.store });
  cl = await startTestGateway(admins.get('CL').config, 'postgres', { store: stores[1]!.store });
  clAtPe = admins.get('PE').config.partners.find((p) => p.adminId === 'CL')!;
});
afterAll(async () => {
  await bo?.close();
  await cl?.close();
  await pe?.close();
  for (const s of stores) await s.dispose();
  admins?.cleanup();
});

describe('a summary issued by PE about CL', () => {
  let first: Issued;

  it('is pushed, kept by CL with a receipt PE verified, and holds the border figures of its period', async () => {
    await plantLookups(pe.store, 'CL', day, { recognised: 4, suspended: 1 });
    first = await issued(await issue(pe, { partner: 'CL', from: day, to: day }), 201);
    expect(first).toMatchObject({ created: true, push: { state: 'delivered', lastError: null } });
    expect(first.summary).toMatchObject({ reporter: 'PE', subject: 'CL', mraId: clAtPe.mra.id, revision: 1 });
    const expected = await borderFigures(pe.store, { partner: clAtPe, from: day, to: day, now: new Date() });
    expect(first.summary.figures).toEqual(expected);
    expect(first.summary.figures.lookups).toEqual({
      total: 5,
      recognised: 4,
      notRecognised: { suspended: 1 },
    });
    expect(decodePayload(first.jws)).toEqual(first.summary);

    const held = (await heldFrom(cl.store, 'PE')).find((h) => h.summary_id === first.summary.summaryId);
    expect(held).toMatchObject({ jws: first.jws, outcome: 'accepted', receipt_id: first.push.receiptId });

    const [row] = await pe.store.query<{ receipt_jws: string }>(
      'SELECT receipt_jws FROM monitoring_summary_out WHERE summary_id = $1',
      [first.summary.summaryId],
    );
    const ctx = { home: 'PE', partner: clAtPe, at: new Date() };
    const checked = await checkReceipt(row!.receipt_jws, [first.jws], { ...ctx, names: 'summaryId' });
    expect(checked.ok).toBe(true);
    // The same receipt does not prove the delivery of a record sent with those bytes.
    const asRecords = await checkReceipt(row!.receipt_jws, [first.jws], ctx);
    expect(asRecords).toMatchObject({ ok: false, code: 'SCHEMA_INVALID' });
    expect(checked.ok && checked.receipt.results).toEqual([
      { index: 0, summaryId: first.summary.summaryId, digest: digestOf(first.jws), outcome: 'accepted' },
    ]);
  });

  it('is in both audit chains under its summaryId and the digest of its JWS', async () => {
    const entry = (store: Store, kind: string) =>
      store.query<{ actor: string; digest: string }>(
        'SELECT actor, digest FROM audit_log WHERE kind = $1 AND subject = $2',
        [kind, first.summary.summaryId],
      );
    expect(await entry(pe.store, 'summary-issued')).toEqual([
      { actor: 'monitoring', digest: digestOf(first.jws) },
    ]);
    expect(await entry(cl.store, 'summary-received')).toEqual([{ actor: 'PE', digest: digestOf(first.jws) }]);
  });

  it('is listed by both APIs with its figures', async () => {
    const list = async (gw: TestGateway, query: string) => {
      const res = await gw.api.request(`/api/v1/monitoring/summaries${query}`, {
        method: 'GET',
        headers: bearer(API_TOKENS.monitoring),
      });
      expect(res.status, res.text.slice(0, 300)).toBe(200);
      return (JSON.parse(res.text) as { summaries: { summaryId: string; figures: unknown }[] }).summaries;
    };
    const received = await list(cl, '?partner=PE&direction=received');
    expect(received.find((s) => s.summaryId === first.summary.summaryId)?.figures).toEqual(
      first.summary.figures,
    );
    const issuedList = await list(pe, '?partner=CL&direction=issued');
    expect(issuedList.map((s) => s.summaryId)).toContain(first.summary.summaryId);
    expectProblem(
      await pe.api.request('/api/v1/monitoring/summaries?direction=sideways', {
        method: 'GET',
        headers: bearer(API_TOKENS.monitoring),
      }),
      400,
      'BAD_REQUEST',
    );
    const publishOnly = await pe.api.post(
      '/api/v1/monitoring/summaries',
      { partner: 'CL', from: day, to: day },
      { headers: bearer(API_TOKENS.publishOnly) },
    );
    expectProblem(publishOnly, 403, 'FORBIDDEN');
  });

  it('is served on PE feed to CL alone, and pulling it again at CL is a duplicate', async () => {
    const page = await feedAs(pe, 'CL');
    expect(page.status, page.text.slice(0, 300)).toBe(200);
    expect((JSON.parse(page.text) as { summaries: string[] }).summaries).toContain(first.jws);
    const toBo = JSON.parse((await feedAs(pe, 'BO')).text) as { summaries: string[] };
    expect(toBo.summaries).not.toContain(first.jws);

    const report = await cl.gateway.summaries.pull('PE');
    expect(report).toMatchObject({ partner: 'PE', error: null });
    expect(report.outcomes).toEqual({ duplicate: report.summaries });
    expect(report.summaries).toBeGreaterThanOrEqual(1);
    expect(
      (await heldFrom(cl.store, 'PE')).filter((h) => h.summary_id === first.summary.summaryId),
    ).toHaveLength(1);
  });

  it('refuses a page out of bounds or without a request token', async () => {
    expectProblem(await feedAs(pe, 'CL', '?limit=0'), 400, 'BAD_REQUEST');
    expectProblem(await feedAs(pe, 'CL', '?limit=101'), 400, 'BAD_REQUEST');
    expectProblem(await feedAs(pe, 'CL', '?after=bm90LWEtY3Vyc29y'), 400, 'BAD_REQUEST');
    expectProblem(await getPartnerRoute(pe, '/monitoring', undefined), 401, 'UNAUTHORIZED');
  });

  it('gets a new revision only when its figures changed', async () => {
    const again = await issued(await issue(pe, { partner: 'CL', from: day, to: day }), 200);
    expect(again).toMatchObject({ created: false, summary: { summaryId: first.summary.summaryId } });

    await plantLookups(pe.store, 'CL', day, { revoked: 2 });
    const second = await issued(await issue(pe, { partner: 'CL', from: day, to: day }), 201);
    expect(second).toMatchObject({ created: true, push: { state: 'delivered' }, summary: { revision: 2 } });
    expect(second.summary.figures.lookups).toEqual({
      total: 7,
      recognised: 4,
      notRecognised: { revoked: 2, suspended: 1 },
    });
    const held = (await heldFrom(cl.store, 'PE')).filter((h) =>
      [first.summary.summaryId, second.summary.summaryId].includes(h.summary_id),
    );
    expect(held.map((h) => [h.revision, h.outcome])).toEqual([
      ['1', 'accepted'],
      ['2', 'accepted'],
    ]);
    const page = JSON.parse((await feedAs(pe, 'CL')).text) as { summaries: string[] };
    expect(page.summaries.indexOf(second.jws)).toBeGreaterThan(page.summaries.indexOf(first.jws));
  });

  it('is refused for a period that has not ended, or a partner that is not configured', async () => {
    const today = daysAgo(0);
    expectProblem(await issue(pe, { partner: 'CL', from: day, to: today }), 400, 'BAD_REQUEST');
    expectProblem(await issue(pe, { partner: 'CL', from: day, to: daysAgo(3) }), 400, 'BAD_REQUEST');
    expectProblem(await issue(pe, { partner: 'XX', from: day, to: day }), 404, 'NOT_FOUND');
    expectProblem(await issue(pe, { partner: 'CL', from: day }), 400, 'BODY_INVALID');
  });
});

describe('a push to a partner that is down', () => {
  it('is retried with backoff until the partner holds it', async () => {
    const pending = await issued(await issue(pe, { partner: 'BO', from: day, to: day }), 201);
    expect(pending.push).toMatchObject({ state: 'pending', attempts: 1, receiptId: null });
    expect(pending.push.lastError).toMatch(/ECONNREFUSED|connect/i);

    bo = await startTestGateway(admins.get('BO').config, 'postgres', { store: stores[2]!.store });
    const boStore = bo.store;
    await eventually(async () => {
      await pe.gateway.summaries.pushDue();
      return (await heldFrom(boStore, 'PE')).some((h) => h.summary_id === pending.summary.summaryId);
    });
    const [row] = await pe.store.query<{ delivered_at: Date | null; attempts: number }>(
      'SELECT delivered_at, attempts FROM monitoring_summary_out WHERE summary_id = $1',
      [pending.summary.summaryId],
    );
    expect(row?.delivered_at).not.toBeNull();
    expect(row?.attempts).toBeGreaterThanOrEqual(2);
  });
});

describe('issuing on its own', () => {
  it("sends each partner the previous month's summary at start, and no new revision while nothing changed", async () => {
    const month = previousMonth(new Date());
    const fromBo = async (store: Store) =>
      (
        await store.query<{ summary_id: string; revision: string }>(
          `SELECT summary_id::text, revision::text FROM monitoring_summary_in
            WHERE reporter = 'BO' AND period_from = $1 AND period_to = $2`,
          [month.from, month.to],
        )
      ).map((r) => r.revision);
    await eventually(
      async () => (await fromBo(pe.store)).length === 1 && (await fromBo(cl.store)).length === 1,
    );
    if (bo === undefined) throw new Error('BO did not start');
    const rerun = await bo.gateway.summaries.autoIssue();
    expect(rerun.map((r) => [r.summary.subject, r.created, r.summary.revision]).sort()).toEqual([
      ['CL', false, 1],
      ['PE', false, 1],
    ]);
    expect(await fromBo(pe.store)).toEqual(['1']);

    // Late figures for PE's operators in that month: a new revision for PE alone, pushed by the same run.
    await plantLookups(bo.store, 'PE', month.from, { recognised: 2 });
    const revised = await bo.gateway.summaries.autoIssue();
    expect(revised.map((r) => [r.summary.subject, r.created, r.summary.revision]).sort()).toEqual([
      ['CL', false, 1],
      ['PE', true, 2],
    ]);
    expect((await fromBo(pe.store)).sort()).toEqual(['1', '2']);
    expect(await fromBo(cl.store)).toEqual(['1']);
  });
});
