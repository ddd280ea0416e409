/**
 * Feed catch-up between two gateways of two administrations, each on its own PostgreSQL database, over real
 * HTTP: CL pulls what PE published through its decisions API, page by page, judges it like pushed records,
 * resumes from its saved cursor after a restart, and records why a pull failed. No Redis is involved.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PullReport } from '../../src/inbound/pull.ts';
import type { Store } from '../../src/store/types.ts';
import type { TestAdmins } from '../support/admins.ts';
import { API_TOKENS, bearer, makeLinkedAdmins, newAeoId, publish } from '../support/exchange.ts';
import {
  expectProblem,
  httpRequest,
  openTestStore,
  outcomes,
  startTestGateway,
  type TestGateway,
} from '../support/gateway.ts';

let admins: TestAdmins;
const stores: { store: Store; dispose(): Promise<void> }[] = [];
let peStore: Store;
let clStore: Store;
let pe: TestGateway;
let cl: TestGateway;

beforeAll(async () => {
  // Pages of two records, so that a few decisions already make the catch-up loop over several pages.
  admins = await makeLinkedAdmins(['PE', 'CL'], {
    edit: (_id, raw) => {
      raw.outbound = { ...raw.outbound, batchSize: 2 };
    },
  });
  for (let i = 0; i < 2; i += 1) stores.push(await openTestStore('postgres'));
  [peStore, clStore] = [stores[0]!.store, stores[1]!.store];
  pe = await startTestGateway(admins.get('PE').config, 'postgres', { store: peStore });
  cl = await startTestGateway(admins.get('CL').config, 'postgres', { store: clStore });
});
afterAll(async () => {
  await cl?.close();
  await pe?.close();
  for (const s of stores) await s.dispose();
  admins.cleanup();
});

/** What PE shared with CL, in commit order. */
const sharedWithCl = async () =>
  (
    await peStore.query<{ jws: string; aeo_id: string; version: string }>(
      `SELECT h.jws, h.aeo_id, h.version::text FROM home_record h JOIN outbox o ON o.record_seq = h.seq
        WHERE o.partner = 'CL' ORDER BY h.seq`,
    )
  ).map((r) => ({ jws: r.jws, aeoId: r.aeo_id, version: Number(r.version) }));
const heldAtCl = async () =>
  (
    await clStore.query<{ jws: string }>(`SELECT jws FROM inbound_record WHERE issuer = 'PE' ORDER BY jws`)
  ).map((r) => r.jws);
const feedRow = async () =>
  (
    await clStore.query<{ cursor: string | null; last_error: string | null; pulled_at: Date | null }>(
      `SELECT cursor, last_error, pulled_at FROM partner_feed WHERE partner = 'PE'`,
    )
  )[0];

describe('pulling a partner feed', () => {
  it('holds every record PE shared after one run, taken a page at a time', async () => {
    const ids = Array.from({ length: 5 }, () => newAeoId('PE'));
    for (const id of ids) await publish(pe, id);
    await publish(pe, ids[0]!, { decision: 'suspend' });

    const report = await cl.gateway.sync.pull('PE');
    expect(report).toMatchObject({
      partner: 'PE',
      pages: 4,
      records: 6,
      outcomes: { accepted: 6 },
      caughtUp: true,
      error: null,
    } satisfies Partial<PullReport>);
    const shared = await sharedWithCl();
    expect(await heldAtCl()).toEqual(shared.map((r) => r.jws).sort());
    const state = await clStore.query<{ aeo_id: string; version: string; status: string }>(
      `SELECT aeo_id, version::text, status FROM operator_state WHERE issuer = 'PE' ORDER BY aeo_id`,
    );
    expect(state.map((s) => [s.aeo_id, Number(s.version), s.status])).toEqual(
      [...ids].sort().map((id) => [id, id === ids[0] ? 2 : 1, id === ids[0] ? 'suspended' : 'certified']),
    );
    // One receipt per page that held records, sent by PE as the judge saw it.
    const receipts = await clStore.query<{ sender: string; record_count: number }>(
      'SELECT sender, record_count FROM inbound_receipt ORDER BY received_at',
    );
    expect(receipts.map((r) => [r.sender, r.record_count])).toEqual([
      ['PE', 2],
      ['PE', 2],
      ['PE', 2],
    ]);
    expect(await feedRow()).toMatchObject({ cursor: report.cursor, last_error: null });

    const again = await cl.gateway.sync.pull('PE');
    expect(again).toMatchObject({
      pages: 1,
      records: 0,
      outcomes: {},
      caughtUp: true,
      cursor: report.cursor,
    });
  });

  it('judges a pulled record like a pushed one: one already pushed is a duplicate', async () => {
    const id = newAeoId('PE');
    await publish(pe, id);
    await publish(pe, newAeoId('PE'));
    const [pushed] = (await sharedWithCl()).filter((r) => r.aeoId === id);
    const sent = await cl.send([pushed!.jws]);
    expect(outcomes(sent.results)).toEqual(['accepted']);

    const report = await cl.gateway.sync.pull('PE');
    expect(report).toMatchObject({ records: 2, outcomes: { duplicate: 1, accepted: 1 }, error: null });
    expect(await heldAtCl()).toEqual((await sharedWithCl()).map((r) => r.jws).sort());
  });

  it('resumes from its saved cursor after a restart', async () => {
    await cl.gateway.sync.pull('PE');
    const { cursor } = (await feedRow())!;
    await cl.close();
    const later = [newAeoId('PE'), newAeoId('PE'), newAeoId('PE')];
    for (const id of later) await publish(pe, id);

    cl = await startTestGateway(admins.get('CL').config, 'postgres', { store: clStore });
    const before = (await heldAtCl()).length;
    const report = await cl.gateway.sync.pull('PE');
    expect(report).toMatchObject({ records: 3, outcomes: { accepted: 3 }, error: null });
    expect((await heldAtCl()).length).toBe(before + 3);
    expect((await feedRow())!.cursor).not.toBe(cursor);
    expect(await heldAtCl()).toEqual((await sharedWithCl()).map((r) => r.jws).sort());
  });

  it('records why a pull failed, keeps its cursor, and clears the error on the next success', async () => {
    await cl.gateway.sync.pull('PE');
    const { cursor } = (await feedRow())!;
    await pe.close();
    const failed = await cl.gateway.sync.pull('PE');
    expect(failed).toMatchObject({ pages: 0, records: 0, error: expect.stringMatching(/ECONNREFUSED/) });
    expect(await feedRow()).toMatchObject({ cursor, last_error: expect.stringMatching(/ECONNREFUSED/) });

    pe = await startTestGateway(admins.get('PE').config, 'postgres', { store: peStore });
    await publish(pe, newAeoId('PE'));
    const report = await cl.gateway.sync.pull('PE');
    expect(report).toMatchObject({ records: 1, outcomes: { accepted: 1 }, error: null });
    expect(await feedRow()).toMatchObject({ last_error: null });
  });

  it('runs on demand through the admin API, for the admin scope only', async () => {
    await publish(pe, newAeoId('PE'));
    const url = `${cl.gateway.apiUrl}/api/v1/partners/PE/pull`;
    const res = await httpRequest(url, { method: 'POST', headers: bearer(API_TOKENS.operator) });
    expect(res.status, res.text).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ partner: 'PE', records: 1, outcomes: { accepted: 1 } });
    // An explicit empty JSON body is as good as none.
    const json = await httpRequest(url, {
      method: 'POST',
      headers: { ...bearer(API_TOKENS.operator), 'content-type': 'application/json' },
      body: '{}',
    });
    expect(JSON.parse(json.text)).toMatchObject({ records: 0, error: null });

    expectProblem(await httpRequest(url, { method: 'POST' }), 401, 'UNAUTHORIZED');
    for (const t of [API_TOKENS.monitoring, API_TOKENS.publishOnly]) {
      expectProblem(await httpRequest(url, { method: 'POST', headers: bearer(t) }), 403, 'FORBIDDEN');
    }
    const unknown = `${cl.gateway.apiUrl}/api/v1/partners/XX/pull`;
    expectProblem(
      await httpRequest(unknown, { method: 'POST', headers: bearer(API_TOKENS.operator) }),
      404,
      'NOT_FOUND',
    );
  });
});
