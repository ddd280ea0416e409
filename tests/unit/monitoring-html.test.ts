/**
 * The monitoring report's HTML page without a browser: the one escape function, data that tries to become
 * markup, figures not known that must never read 0, each locale's number and date formats, and the figure
 * definitions covering every figure the report has.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FIGURES, figureDefinition, localeOf } from '../../src/monitoring/definitions.ts';
import { escapeHtml, h } from '../../src/monitoring/html/escape.ts';
import { formatterFor } from '../../src/monitoring/html/format.ts';
import { renderReportHtml } from '../../src/monitoring/html/report-html.ts';
import { sampleReport } from '../support/report-fixture.ts';

const decodeEntities = (s: string) =>
  s
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&amp;', '&');

describe('escapeHtml', () => {
  it('escapes the five characters that can open markup or close an attribute', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
    );
  });

  it('leaves no markup character in any string, and loses nothing', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        const escaped = escapeHtml(text);
        expect(escaped).not.toMatch(/[<>"']/);
        expect(decodeEntities(escaped)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('is applied by the h tag to every value that is not markup built by the page', () => {
    const name = '<img src=x onerror=alert(1)>';
    expect(h`<td>${name}</td>`.html).toBe('<td>&lt;img src=x onerror=alert(1)&gt;</td>');
    expect(h`<td>${h`<b>${name}</b>`}</td>`.html).toBe('<td><b>&lt;img src=x onerror=alert(1)&gt;</b></td>');
    expect(h`<td>${[name, 1234]}</td>`.html).toBe('<td>&lt;img src=x onerror=alert(1)&gt;1234</td>');
  });
});

describe('renderReportHtml', () => {
  it('never lets data become markup', () => {
    const hostile = '<script>alert("x")</script>';
    const report = sampleReport();
    report.mraTerms[0]!.terms.benefits[0]!.description = hostile;
    report.inbound.figures.lookups!.notRecognised = { [hostile]: 5 };
    report.inbound.figures.benefits![0]!.benefitId = `fewer"><svg onload=alert(1)>`;
    report.partner = '<b>';
    for (const locale of ['en', 'es'] as const) {
      const html = renderReportHtml(report, locale);
      expect(html).not.toContain('<script');
      expect(html).not.toContain('<svg onload');
      expect(html).not.toContain('<b>');
      expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    }
  });

  it('writes a figure that is not known as such, never as 0', () => {
    const report = sampleReport();
    report.outbound.latency.toReceiptMs = { count: 0, p50: null, p95: null, p99: null };
    report.inbound.figures = {};
    report.inbound.freshness = { lastReceiptAt: null, lastPulledAt: null, lastReconciliation: null };
    const en = renderReportHtml(report, 'en');
    const es = renderReportHtml(report, 'es');
    const row = (html: string, label: string) => {
      const at = html.indexOf(`>${label}</a>`);
      expect(at, label).toBeGreaterThan(0);
      return html.slice(at, html.indexOf('</tr>', at));
    };
    for (const [html, word] of [
      [en, 'not known'],
      [es, 'no disponible'],
    ] as const) {
      const locale = html === en ? 'en' : 'es';
      for (const id of [
        'inbound.figures.lookups.total',
        'inbound.figures.records.accepted',
        'inbound.figures.operators.recognised',
        'inbound.freshness.lastPulledAt',
      ]) {
        const cells = row(html, figureDefinition(id)!.label[locale]);
        expect(cells, id).toContain(word);
        expect(cells, id).not.toMatch(/>0</);
      }
    }
  });

  it("shows the partner's signed summary with its figures as signed, and its evidence handle", () => {
    const report = sampleReport();
    report.outbound.partnerSummary = {
      summaryId: '0b4c3a52-8a8e-4d1b-9f5e-2f1f0c7b9a11',
      reporter: 'CL',
      subject: 'PE',
      revision: 2,
      issuedAt: '2026-05-01T12:00:00.000Z',
      at: '2026-05-01T12:00:03.000Z',
      digest: 'q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c',
      figures: { lookups: { total: 7777 } },
    };
    const html = renderReportHtml(report, 'en');
    expect(html).not.toContain('No signed summary from the partner');
    expect(html).toContain('q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c');
    const at = html.indexOf('href="#def-outbound-partnerSummary-figures-lookups-total"');
    expect(at).toBeGreaterThan(0);
    expect(html.slice(at, html.indexOf('</tr>', at))).toContain('>7,777<');
    // What the partner left out is not known, not 0.
    const recognised = html.indexOf('href="#def-outbound-partnerSummary-figures-lookups-recognised"');
    expect(html.slice(recognised, html.indexOf('</tr>', recognised))).toContain('not known');
  });

  it('writes numbers and dates as each locale does', () => {
    const en = renderReportHtml(sampleReport(), 'en');
    const es = renderReportHtml(sampleReport(), 'es');
    expect(en).toMatch(/<html lang="en-GB">/);
    expect(es).toMatch(/<html lang="es-ES">/);
    // 12345 operators in the register; the period 2026-04-01 to 2026-04-30.
    expect(en).toContain('>12,345<');
    expect(es).toContain('>12.345<');
    expect(es).toContain('>1.987<');
    expect(en).toContain('01/04/2026 – 30/04/2026');
    expect(es).toContain('01/04/2026 – 30/04/2026');
    expect(es).toContain('02/05/2026 08:15:30 UTC');
    expect(formatterFor('es').number(1234)).toBe('1.234');
    expect(formatterFor('en').number(1234567)).toBe('1,234,567');
    expect(formatterFor('es').date('2026-12-31')).toBe('31/12/2026');
  });

  it('is one document that asks for nothing: no script, no external resource', () => {
    const html = renderReportHtml(sampleReport(), 'en');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|<img|<iframe|@import|url\(/i);
    // Links are to the page itself; the one <link> is the empty icon written inline.
    expect(html.match(/<link[^>]*>/g)).toEqual(['<link rel="icon" href="data:,">']);
    expect(html).not.toMatch(/(?:src|href)="(?!#|data:,")/);
    expect(html).toContain('@page { size: A4;');
    // Charts with their text alternatives.
    expect((html.match(/<svg [^>]*role="img" aria-labelledby="[^"]+"/g) ?? []).length).toBe(5);
    expect((html.match(/<rect class="bar"/g) ?? []).length).toBeGreaterThan(60);
  });

  it('links every figure label to its definition on the page', () => {
    const html = renderReportHtml(sampleReport(), 'es');
    const links = [...html.matchAll(/<a href="#(def-[^"]+)">/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(40);
    for (const anchor of new Set(links)) expect(html, anchor).toContain(`id="${anchor}"`);
    for (const figure of FIGURES) expect(html).toContain(figure.definition.es.slice(0, 40));
  });
});

describe('figure definitions', () => {
  it('have one id each, a label and a definition in both languages, translated', () => {
    const ids = FIGURES.map((f) => f.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const figure of FIGURES) {
      for (const text of [figure.label.en, figure.label.es, figure.definition.en, figure.definition.es]) {
        expect(text.trim().length, figure.id).toBeGreaterThan(2);
        // A word table interpolated whole, rather than in the page's language, reads "[object Object]".
        expect(text, figure.id).not.toMatch(/\[object |\$\{|undefined/);
      }
      expect(figure.definition.es, figure.id).not.toBe(figure.definition.en);
    }
  });

  it('cover every figure of the report JSON', () => {
    // Members that describe the report or a summary rather than count anything.
    const metadata =
      /^(schema|generatedAt|home|partner|mraId|period\..*|mraTerms\[\]\..*|daily\[\]\.date|.*benefits\[\]\.benefitId)$/;
    const leaves: string[] = [];
    const walk = (value: unknown, path: string): void => {
      if (Array.isArray(value)) {
        for (const item of value) walk(item, `${path}[]`);
      } else if (typeof value === 'object' && value !== null) {
        for (const [key, member] of Object.entries(value)) walk(member, path === '' ? key : `${path}.${key}`);
      } else {
        leaves.push(path);
      }
    };
    const report = sampleReport();
    report.outbound.partnerSummary = {
      summaryId: 'x',
      reporter: 'CL',
      subject: 'PE',
      revision: 1,
      issuedAt: 'x',
      at: 'x',
      digest: 'x',
      figures: report.inbound.figures,
    };
    report.inbound.summaryIssued = { ...report.outbound.partnerSummary, figures: {} };
    walk(report, '');
    const undefinedFigures = [...new Set(leaves)].filter((path) => {
      if (metadata.test(path)) return false;
      // A figure's definition covers its map keys, percentiles and the metadata of a held summary.
      const parts = path.split('.');
      for (let n = parts.length; n > 0; n--) {
        if (figureDefinition(parts.slice(0, n).join('.')) !== undefined) return false;
      }
      return true;
    });
    expect(undefinedFigures).toEqual([]);
    expect(leaves.length).toBeGreaterThan(80);
  });
});

describe('localeOf', () => {
  it('reads a lang value or an Accept-Language header, English by default', () => {
    expect(localeOf(undefined)).toBe('en');
    expect(localeOf('es')).toBe('es');
    expect(localeOf('en')).toBe('en');
    expect(localeOf('fr')).toBe('en');
    expect(localeOf('es-CL,es;q=0.9,en;q=0.8')).toBe('es');
    expect(localeOf('fr-FR, en;q=0.3, es;q=0.7')).toBe('es');
    expect(localeOf('es;q=0, en;q=0.1')).toBe('en');
    expect(localeOf('ES')).toBe('es');
    expect(localeOf('de, *;q=0.5')).toBe('en');
    expect(localeOf(`${'x,'.repeat(10_000)}es`)).toBe('en');
  });
});
