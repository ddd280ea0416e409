/**
 * The page shell shared by the report and the dashboard: one self-contained document (inline CSS, no font,
 * image or script from elsewhere), readable on screen and printed on A4 without cut tables or charts.
 */
import { h, type Markup, markup } from './escape.ts';
import type { Formatter } from './format.ts';

/** A4 less the print margins of 15 mm each side: the width every table and chart fits in when printed. */
export const PRINT_MARGIN_MM = 15;

const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
  color: #1a1a1a; background: #fff; margin: 0 auto; padding: 16px; max-width: 980px; }
h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
h2 { font-size: 1.25rem; margin: 1.5rem 0 .5rem; border-bottom: 2px solid #1f5fa8; padding-bottom: .2rem; }
h3 { font-size: 1.05rem; margin: 1.1rem 0 .4rem; }
p { margin: .4rem 0; }
a { color: #174a84; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 .8rem; font-size: .9rem; }
th, td { border: 1px solid #bbb; padding: .2rem .4rem; text-align: left; vertical-align: top;
  overflow-wrap: break-word; }
thead th { background: #eef2f7; }
th[scope=row] { font-weight: normal; }
tr.sub th[scope=row] { padding-left: 1.4rem; color: #333; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.unknown { color: #595959; font-style: italic; }
td.num.unknown { white-space: normal; }
table.wide { font-size: .8rem; }
table.wide ul { margin: 0; padding-left: 1rem; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: .5rem 0 1rem; }
.meta dt { font-weight: 600; }
.meta dd { margin: 0; overflow-wrap: anywhere; }
.meta dd ul { margin: 0; padding-left: 1.2rem; }
dl.terms { border-left: 3px solid #1f5fa8; padding-left: .6rem; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .85em; overflow-wrap: anywhere; }
figure.chart { margin: .8rem 0; break-inside: avoid; page-break-inside: avoid; }
figure.chart figcaption { font-weight: 600; margin-bottom: .3rem; }
figure.chart svg { display: block; width: 100%; max-width: 640px; height: auto; }
details.chart-data summary { cursor: pointer; color: #174a84; font-size: .9rem; }
.no-data { color: #595959; }
dl.definitions dt { font-weight: 600; margin-top: .5rem; }
dl.definitions dd { margin: .1rem 0 0 1rem; }
.cols { display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); gap: 0 1.2rem; }
.alert { color: #8a1c1c; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  white-space: nowrap; }
.ok { color: #1e5a23; }
@page { size: A4; margin: ${PRINT_MARGIN_MM}mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  section.major { break-before: page; page-break-before: always; }
  section.major:first-of-type { break-before: auto; page-break-before: auto; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  table, figure, dl.definitions dd { break-inside: avoid; page-break-inside: avoid; }
  details.chart-data summary { display: none; }
  table.wide { font-size: 7.5pt; }
  table.wide th, table.wide td { padding: .1rem .2rem; }
  .no-print { display: none; }
  a { color: inherit; text-decoration: none; }
}
`;

export interface PageInput {
  f: Formatter;
  title: string;
  body: Markup;
  /** Extra CSS of one page (the dashboard's). */
  css?: string;
  /**
   * The nonce of the page's Content-Security-Policy, when it is served with one (the dashboard): it marks
   * the style and the one inline script as the page's own.
   */
  nonce?: string;
  script?: string;
}

/** The page names an empty icon of its own, so that no browser asks the gateway for /favicon.ico. */
export function page(input: PageInput): string {
  const { nonce, script } = input;
  const nonceAttribute = nonce === undefined ? '' : h` nonce="${nonce}"`;
  return `<!doctype html>\n${
    h`<html lang="${input.f.tag}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><title>${input.title}</title><style${nonceAttribute}>${markup(CSS + (input.css ?? ''))}</style></head><body>${input.body}${
      script === undefined ? '' : h`<script${nonceAttribute}>${markup(script)}</script>`
    }</body></html>`.html
  }`;
}
