/**
 * Border systems' feedback on real PostgreSQL: a report is stored with the client that sent it, a repeat
 * counts once, the summary counts applied and refused per benefit and per enterprise size, scopes hold both
 * ways, and malformed input is a problem document.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AeoStatusRecord } from '../../src/protocol/record.ts';
import { expectProblem } from '../support/gateway.ts';
import {
  apiGet,
  bearer,
  type InjectedReplica,
  type LookupSetup,
  makeLookupSetup,
  TOKENS,
} from '../support/lookup.ts';
import { freshRecord } from '../support/records.ts';

let setup: LookupSetup;
let gw: InjectedReplica;
let small: AeoStatusRecord;
let large: AeoStatusRecord;

const post = (body: unknown, token: string = TOKENS.border) =>
  gw.api.post('/api/v1/feedback', body, { headers: bearer(token) });

const item = (r: AeoStatusRecord, benefit: string, applied: boolean, consignmentRef: string, at: string) => ({
  issuer: 'CL',
  aeoId: r.operator.aeoId,
  benefit,
  applied,
  consignmentRef,
  at,
});

const summary = async (query: string, token: string = TOKENS.monitoring) => {
  const res = await apiGet(gw, `/feedback/summary${query}`, bearer(token));
  expect(res.status, res.text.slice(0, 300)).toBe(200);
  return JSON.parse(res.text) as {
    applied: number;
    refused: number;
    benefits: { benefit: string; applied: number; refused: number; bySize: unknown[] }[];
    bySize: { enterpriseSize: string; sme: boolean | null; applied: number; refused: number }[];
  };
};

beforeAll(async () => {
  setup = await makeLookupSetup();
  gw = await setup.composed();
  small = freshRecord('CL');
  small = { ...small, operator: { ...small.operator, enterpriseSize: 'small' } };
  large = freshRecord('CL');
  large = { ...large, operator: { ...large.operator, enterpriseSize: 'large' } };
  const sent = await setup.send(gw, [small, large]);
  expect(sent.results.map((r) => r.outcome)).toEqual(['accepted', 'accepted']);
});

afterAll(async () => {
  await setup?.close();
});

describe('POST /api/v1/feedback', () => {
  it('stores each item with the client, and a repeat once', async () => {
    const items = [
      item(small, 'fewer-checks', true, 'MRN-001', '2026-11-01T10:00:00Z'),
      item(small, 'priority', false, 'MRN-001', '2026-11-01T10:00:00Z'),
      item(large, 'fewer-checks', false, 'MRN-002', '2026-11-02T10:00:00+02:00'),
    ];
    const first = await post({ items: [...items, { ...items[0]!, reason: 'again in one report' }] });
    expect(first.status, first.text.slice(0, 300)).toBe(200);
    expect(JSON.parse(first.text).results).toEqual([
      { index: 0, outcome: 'stored' },
      { index: 1, outcome: 'stored' },
      { index: 2, outcome: 'stored' },
      { index: 3, outcome: 'duplicate' },
    ]);
    const again = await post({ items: [{ ...items[1]!, applied: true }] });
    expect(JSON.parse(again.text).results).toEqual([{ index: 0, outcome: 'duplicate' }]);

    const c = new pg.Client({ connectionString: setup.db.url });
    await c.connect();
    try {
      const rows = (
        await c.query(
          `SELECT client_id, consignment_ref, aeo_id, benefit, applied, at FROM border_feedback
            ORDER BY consignment_ref, benefit`,
        )
      ).rows;
      expect(rows).toHaveLength(3);
      expect(rows.every((r) => r.client_id === 'risk-engine')).toBe(true);
      // The first report stands: the repeat with applied=true changed nothing.
      expect(rows[1]).toMatchObject({ consignment_ref: 'MRN-001', benefit: 'priority', applied: false });
      expect(new Date(rows[2].at).toISOString()).toBe('2026-11-02T08:00:00.000Z');
    } finally {
      await c.end();
    }
  });

  it('rejects an unknown benefit or issuer per item and stores the rest', async () => {
    const res = await post({
      items: [
        item(small, 'no-such-benefit', true, 'MRN-010', '2026-11-03T10:00:00Z'),
        { ...item(small, 'priority', true, 'MRN-010', '2026-11-03T10:00:00Z'), issuer: 'ZZ' },
        item(small, 'priority', true, 'MRN-010', '2099-01-01T00:00:00Z'),
        item(small, 'priority', true, 'MRN-010', '2026-11-03T10:00:00Z'),
      ],
    });
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    expect(JSON.parse(res.text).results).toEqual([
      { index: 0, outcome: 'rejected', reason: 'unknown-benefit' },
      { index: 1, outcome: 'rejected', reason: 'no-mra-with-issuer' },
      { index: 2, outcome: 'rejected', reason: 'at-in-future' },
      { index: 3, outcome: 'stored' },
    ]);
  });

  it('refuses malformed reports whole with a problem document', async () => {
    const ok = item(small, 'priority', true, 'MRN-020', '2026-11-03T10:00:00Z');
    expectProblem(await post({}), 400, 'BODY_INVALID');
    expectProblem(await post({ items: [] }), 400, 'BODY_INVALID');
    expectProblem(await post({ items: [{ ...ok, applied: 'yes' }] }), 400, 'BODY_INVALID');
    expectProblem(await post({ items: [{ ...ok, extra: 1 }] }), 400, 'BODY_INVALID');
    expectProblem(await post({ items: [{ ...ok, aeoId: 'lower' }] }), 400, 'BODY_INVALID');
    expectProblem(await post({ items: [{ ...ok, at: '2026-11-03' }] }), 400, 'BODY_INVALID');
    expectProblem(await post({ items: [{ ...ok, at: '2026-02-30T10:00:00Z' }] }), 400, 'BAD_REQUEST');
    const tooMany = Array.from({ length: 1_001 }, (_, i) => ({ ...ok, consignmentRef: `MRN-X${i}` }));
    expectProblem(await post({ items: tooMany }), 400, 'BODY_INVALID');
    const c = new pg.Client({ connectionString: setup.db.url });
    await c.connect();
    try {
      const n = (
        await c.query("SELECT count(*)::int AS n FROM border_feedback WHERE consignment_ref LIKE 'MRN-X%'")
      ).rows[0].n;
      expect(n).toBe(0);
    } finally {
      await c.end();
    }
  });

  it('accepts 1,000 items in one report', async () => {
    const items = Array.from({ length: 1_000 }, (_, i) =>
      item(large, 'priority', i % 2 === 0, `MRN-B${i}`, '2026-10-15T00:00:00Z'),
    );
    const res = await post({ items });
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    const { results } = JSON.parse(res.text) as { results: { outcome: string }[] };
    expect(results.filter((r) => r.outcome === 'stored')).toHaveLength(1_000);
  });

  it('is refused to publish, monitoring and admin tokens and without a token', async () => {
    const body = { items: [item(small, 'priority', true, 'MRN-030', '2026-11-03T10:00:00Z')] };
    expectProblem(await post(body, TOKENS.national), 403, 'FORBIDDEN');
    expectProblem(await post(body, TOKENS.monitoring), 403, 'FORBIDDEN');
    expectProblem(await post(body, TOKENS.admin), 403, 'FORBIDDEN');
    expectProblem(await gw.api.post('/api/v1/feedback', body), 401, 'UNAUTHORIZED');
  });
});

describe('GET /api/v1/feedback/summary', () => {
  it('counts applied and refused per benefit and per enterprise size', async () => {
    const s = await summary('?partner=CL&from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z');
    // MRN-001 (small: fewer-checks applied, priority refused), MRN-002 (large: fewer-checks refused),
    // MRN-010 (small: priority applied); the October batch is outside the window.
    expect(s).toMatchObject({ applied: 2, refused: 2 });
    expect(s.benefits.map(({ benefit, applied, refused }) => ({ benefit, applied, refused }))).toEqual([
      { benefit: 'fewer-checks', applied: 1, refused: 1 },
      { benefit: 'priority', applied: 1, refused: 1 },
    ]);
    expect(s.bySize).toEqual([
      { enterpriseSize: 'large', sme: false, applied: 0, refused: 1 },
      { enterpriseSize: 'small', sme: true, applied: 2, refused: 1 },
    ]);
    const all = await summary('');
    expect(all).toMatchObject({ applied: 502, refused: 502 });
    const none = await summary('?partner=ZZ');
    expect(none).toMatchObject({ applied: 0, refused: 0, benefits: [], bySize: [] });
  });

  it('is refused to border and publish tokens; bad input is a problem document', async () => {
    expectProblem(await apiGet(gw, '/feedback/summary', bearer(TOKENS.border)), 403, 'FORBIDDEN');
    expectProblem(await apiGet(gw, '/feedback/summary', bearer(TOKENS.national)), 403, 'FORBIDDEN');
    const bad = (q: string) => apiGet(gw, `/feedback/summary${q}`, bearer(TOKENS.monitoring));
    expectProblem(await bad('?partner=cl'), 400, 'BODY_INVALID');
    expectProblem(await bad('?from=yesterday'), 400, 'BODY_INVALID');
    expectProblem(await bad('?to=2026-02-30T00:00:00Z'), 400, 'BAD_REQUEST');
    expectProblem(await bad('?other=1'), 400, 'BODY_INVALID');
  });
});
