/**
 * GET /api/v1/monitoring/report as a client sees it: JSON by default, the same figures as RFC 4180 CSV with
 * labels in the language asked for (lang, else Accept-Language), an HTML page, and every bad query a problem
 * document with a stable code, never a 5xx; the monitoring scope only.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { figureDefinition } from '../../src/monitoring/definitions.ts';
import type { MonitoringReport } from '../../src/monitoring/report-types.ts';
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
const today = new Date().toISOString().slice(0, 10);
const query = `partner=CL&from=${today}&to=${today}`;
const get = (q: string, headers: Record<string, string> = {}) =>
  apiGet(gw, `/monitoring/report?${q}`, { ...bearer(TOKENS.monitoring), ...headers });

/** RFC 4180, read here from the RFC: quoted fields may hold commas, quotes (doubled) and line ends. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 1;
    } else field += c;
  }
  expect(field, 'the text ends with CRLF').toBe('');
  return rows;
}

beforeAll(async () => {
  setup = await makeLookupSetup();
  gw = await setup.composed();
  const sent = await setup.send(gw, [freshRecord('CL'), freshRecord('CL', { status: 'suspended' })]);
  expect(sent.results.map((r) => r.outcome)).toEqual(['accepted', 'accepted']);
});

afterAll(async () => {
  await setup?.close();
});

describe('GET /api/v1/monitoring/report', () => {
  it('answers JSON by default, with one daily point per day', async () => {
    const res = await get(query);
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    expect(String(res.headers['content-type'])).toMatch(/^application\/json/);
    const report = JSON.parse(res.text) as MonitoringReport;
    expect(report).toMatchObject({
      schema: 'mra-report/1',
      home: 'PE',
      partner: 'CL',
      period: { from: today, to: today },
    });
    expect(report.inbound.figures.records).toEqual({
      accepted: 2,
      duplicate: 0,
      superseded: 0,
      rejected: {},
    });
    expect(report.inbound.operators).toEqual({
      held: 2,
      byStatus: { certified: 1, suspended: 1, revoked: 0, withdrawn: 0 },
    });
    expect(report.daily.map((d) => d.date)).toEqual([today]);
    expect(report.mraTerms).toHaveLength(1);
  });

  it('gives the same figures as CSV, labelled in the language asked for', async () => {
    const json = JSON.parse((await get(query)).text) as MonitoringReport;
    for (const [q, headers, locale] of [
      [`${query}&format=csv`, {}, 'en'],
      [`${query}&format=csv&lang=es`, { 'accept-language': 'en' }, 'es'],
      [`${query}&format=csv`, { 'accept-language': 'es-CL,es;q=0.9,en;q=0.5' }, 'es'],
    ] as const) {
      const res = await get(q, headers);
      expect(res.status, res.text.slice(0, 300)).toBe(200);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.headers['content-language']).toBe(locale);
      expect(res.headers['content-disposition']).toBe(
        `attachment; filename="mra-report-PE-CL-${today}-${today}.csv"`,
      );
      const [header, ...rows] = parseCsv(res.text);
      expect(header).toEqual(['section', 'figure', 'key', 'value', 'label', 'definition']);
      for (const row of rows) expect(row).toHaveLength(6);
      const find = (figure: string, key: string) => rows.filter((r) => r[1] === figure && r[2] === key);
      const accepted = find('inbound.figures.records.accepted', '');
      expect(accepted).toHaveLength(1);
      expect(accepted[0]?.[3]).toBe(String(json.inbound.figures.records?.accepted));
      const def = figureDefinition('inbound.figures.records.accepted');
      expect(accepted[0]?.slice(4)).toEqual([def?.label[locale], def?.definition[locale]]);
      expect(find('inbound.operators.byStatus', 'suspended')[0]?.[3]).toBe('1');
      expect(find('inbound.figures.benefits[].applied', 'fewer-checks.sme')[0]?.[3]).toBe('0');
      expect(find('daily[].recordsReceived', today)[0]?.[3]).toBe('2');
      const since = json.mraTerms[0]?.since ?? '';
      expect(find('mraTerms', `${since}.terms.programmes`)[0]?.[3]).toBe('AEO-S AEO-C AEO-F');
      expect(find('mraTerms', `${since}.terms.benefits.0.id`)[0]?.[3]).toBe('fewer-checks');
      // A figure not known is an empty value, not 0.
      expect(find('inbound.freshness.lastPulledAt', '')[0]?.[3]).toBe('');
    }
  });

  it('shows the summary we issued for exactly the period, with its figures as signed', async () => {
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const period = `partner=CL&from=${yesterday}&to=${yesterday}`;
    expect((JSON.parse((await get(period)).text) as MonitoringReport).inbound.summaryIssued).toBeNull();
    const issued = await gw.api.post(
      '/api/v1/monitoring/summaries',
      { partner: 'CL', from: yesterday, to: yesterday },
      { headers: bearer(TOKENS.monitoring) },
    );
    expect(issued.status, issued.text.slice(0, 300)).toBe(201);
    const { summary } = JSON.parse(issued.text) as { summary: { summaryId: string; figures: unknown } };
    const report = JSON.parse((await get(period)).text) as MonitoringReport;
    expect(report.inbound.summaryIssued).toMatchObject({
      summaryId: summary.summaryId,
      reporter: 'PE',
      subject: 'CL',
      revision: 1,
      digest: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    // Signed from the one computation: the summary's figures are the report's.
    expect(report.inbound.summaryIssued?.figures).toEqual(summary.figures);
    expect(report.inbound.figures).toEqual(summary.figures);
    // Another period has none.
    expect((JSON.parse((await get(query)).text) as MonitoringReport).inbound.summaryIssued).toBeNull();
  });

  it('renders the report as an HTML page', async () => {
    const res = await get(`${query}&format=html&lang=es`);
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toMatch(/^<!doctype html>/i);
    expect(res.text).toMatch(/<html lang="es[-"]/);
    expect(res.text).toContain('Informe de seguimiento');
  });

  it('refuses bad queries with problem documents, and other scopes', async () => {
    expectProblem(await get(`partner=MX&from=${today}&to=${today}`), 404, 'NOT_FOUND');
    for (const q of [
      `partner=cl&from=${today}&to=${today}`,
      `partner=CL&from=2026-02-30&to=2026-03-01`,
      `partner=CL&from=2026-03-02&to=2026-03-01`,
      `partner=CL&from=2025-01-01&to=2026-01-02`,
      `partner=CL&from=0000-01-01&to=2026-01-02`,
      `partner=CL&from=${today}`,
      `${query}&format=pdf`,
      `${query}&lang=fr`,
      `${query}&extra=1`,
      `${query}&from=${today}`,
    ]) {
      expectProblem(await get(q), 400, 'BAD_REQUEST');
    }
    expect((await get('partner=CL&from=2025-01-01&to=2026-01-01')).status).toBe(200);
    // The edges of the years a date may have: no instant past 9999 reaches the store.
    for (const q of [
      'partner=CL&from=9999-12-01&to=9999-12-31',
      'partner=CL&from=1900-01-01&to=1900-01-31',
    ]) {
      const res = await get(`${q}&format=csv`);
      expect(res.status, res.text.slice(0, 300)).toBe(200);
    }
    expectProblem(await apiGet(gw, `/monitoring/report?${query}`, bearer(TOKENS.border)), 403, 'FORBIDDEN');
    expectProblem(await apiGet(gw, `/monitoring/report?${query}`, {}), 401, 'UNAUTHORIZED');
  });
  it('answers any query with a report or a problem, never a 5xx', async () => {
    const text = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.constantFrom('CL', 'PE', '1900-01-01', '9999-12-31', '2026-02-29', today, 'csv', 'html', 'es', ''),
    );
    const name = fc.constantFrom('partner', 'from', 'to', 'format', 'lang', 'x');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(name, text), { maxLength: 6 }),
        fc.string({ maxLength: 40 }),
        async (pairs, language) => {
          const q = pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
          const res = await get(q, { 'accept-language': language.replace(/[^\x20-\x7e]/g, '') });
          expect(res.status, `${q}: ${res.text.slice(0, 200)}`).toBeLessThan(500);
          if (res.status >= 400)
            expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
        },
      ),
      { numRuns: 60 },
    );
  });
});
