/**
 * The monitoring report as one self-contained HTML page (GET /api/v1/monitoring/report?format=html): both
 * directions, charts drawn on the server, every figure linked to its definition, the locale's number and
 * date formats, printable on A4. Nothing on the page is fetched: it reads the same offline, in a mail or an
 * archive, as when it was generated.
 */
import type { Locale } from '../figure-types.ts';
import type { MonitoringReport } from '../report-types.ts';
import { h, type Markup } from './escape.ts';
import { definitionsSection, labelOf, mraStatusName } from './figures.ts';
import { type Formatter, formatterFor } from './format.ts';
import { page } from './layout.ts';
import { chartsSection } from './report-charts.ts';
import { inboundSection } from './report-inbound.ts';
import { outboundSection } from './report-outbound.ts';
import { STRINGS } from './strings.ts';

function termsSection(report: MonitoringReport, f: Formatter): Markup {
  const l = f.locale;
  const versions = report.mraTerms.map((version) => {
    const t = version.terms;
    const benefits = t.benefits.map(
      (b) =>
        h`<li><code>${b.id}</code>: ${b.description}${b.roles === null ? '' : h` (${b.roles.join(', ')})`}</li>`,
    );
    const effect = `${f.dateTime(version.since)} – ${version.until === null ? STRINGS.termsStillInForce[l] : f.dateTime(version.until)}`;
    const inForce = `${f.date(t.inForceFrom)} – ${t.inForceUntil === null ? '…' : f.date(t.inForceUntil)}`;
    return h`<dl class="meta terms"><dt>${STRINGS.termsSince[l]}</dt><dd>${effect}</dd><dt>${STRINGS.mra[l]}</dt><dd><code>${t.mraId}</code></dd><dt>${STRINGS.termsStatus[l]}</dt><dd>${mraStatusName(t.status, f)}</dd><dt>${STRINGS.termsInForce[l]}</dt><dd>${inForce}</dd><dt>${STRINGS.termsProgrammes[l]}</dt><dd>${t.programmes.join(', ')}</dd><dt>${STRINGS.termsRoles[l]}</dt><dd>${t.roles.join(', ')}</dd><dt>${STRINGS.termsBenefits[l]}</dt><dd><ul>${benefits}</ul></dd><dt>${STRINGS.termsDigest[l]}</dt><dd class="mono">${version.termsSha256}</dd></dl>`;
  });
  return h`<h2>${labelOf('mraTerms', f)}</h2>${versions}`;
}

function header(report: MonitoringReport, f: Formatter): Markup {
  const l = f.locale;
  const period = `${f.date(report.period.from)} – ${f.date(report.period.to)}`;
  return h`<header><h1>${STRINGS.reportTitle[l]}</h1><p>${STRINGS.reportIntro[l]}</p><dl class="meta"><dt>${STRINGS.home[l]}</dt><dd>${report.home}</dd><dt>${STRINGS.partner[l]}</dt><dd>${report.partner}</dd><dt>${STRINGS.mra[l]}</dt><dd><code>${report.mraId}</code></dd><dt>${STRINGS.period[l]}</dt><dd>${period}</dd><dt>${STRINGS.generatedAt[l]}</dt><dd>${f.dateTime(report.generatedAt)}</dd></dl></header>`;
}

/**
 * The Content-Security-Policy the report is served with: its one inline style and the empty icon, nothing
 * else. The page has no script, fetches nothing and submits nothing, so a value that slipped through the
 * escaping could neither run nor send anything anywhere.
 */
export const REPORT_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function renderReportHtml(report: MonitoringReport, locale: Locale): string {
  const f = formatterFor(locale);
  const title = `${STRINGS.reportTitle[locale]} ${report.home}–${report.partner} ${report.period.from}/${report.period.to}`;
  const body = h`<main>${header(report, f)}${termsSection(report, f)}${outboundSection(report, f)}${inboundSection(report, f)}${chartsSection(report, f)}${definitionsSection(f)}</main>`;
  return page({ f, title, body });
}
