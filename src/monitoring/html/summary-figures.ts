/**
 * The figures of a monitoring summary as tables: ours about the partner's operators (`inbound.figures`) and
 * the partner's about ours (`outbound.partnerSummary.figures`). Every member is optional in the protocol: one
 * left out reads "not known", never 0.
 */
import type {
  BenefitFigures,
  Percentiles,
  SizeSplit,
  SummaryFigures,
} from '../../protocol/monitoring-summary.ts';
import { PROGRAMMES, ROLES } from '../../protocol/record.ts';
import { h, type Markup } from './escape.ts';
import { countRow, countsRows, figureTable, labelOf, SIZE_ORDER, sizeName, valueCell } from './figures.ts';
import type { Formatter } from './format.ts';
import { STRINGS } from './strings.ts';

const SPLIT = ['sme', 'large', 'unknown'] as const;

export function percentileCells(p: Percentiles | undefined, f: Formatter): Markup[] {
  return [p?.p50, p?.p95, p?.p99].map((v) => valueCell(f.number(v), v !== undefined));
}

function splitCells(split: SizeSplit | undefined, f: Formatter): Markup[] {
  return SPLIT.map((k) => valueCell(f.number(split?.[k]), split?.[k] !== undefined));
}

function benefitsTable(
  prefix: string,
  benefits: readonly BenefitFigures[] | undefined,
  f: Formatter,
): Markup {
  const l = f.locale;
  if (benefits === undefined) {
    return h`<p>${labelOf(`${prefix}.benefits[].applied`, f)}: <span class="unknown">${f.notKnown}</span></p>`;
  }
  const sizes = SPLIT.map((k) => h`<th scope="col">${sizeName(k, f)}</th>`);
  const rows = benefits.map((b) => {
    const reasons = Object.entries(b.refusalReasons ?? {})
      .sort(([a], [c]) => a.localeCompare(c))
      .map(([reason, n]) => h`<li><code>${reason}</code>: ${f.number(n)}</li>`);
    const reasonCell =
      b.refusalReasons === undefined
        ? h`<td class="unknown">${f.notKnown}</td>`
        : h`<td>${reasons.length === 0 ? STRINGS.none[l] : h`<ul>${reasons}</ul>`}</td>`;
    return h`<tr><th scope="row"><code>${b.benefitId}</code></th>${splitCells(b.applied, f)}${splitCells(b.refused, f)}${reasonCell}</tr>`;
  });
  return h`<table class="wide"><thead><tr><th scope="col" rowspan="2">${STRINGS.benefit[l]}</th><th scope="colgroup" colspan="3">${labelOf(`${prefix}.benefits[].applied`, f)}</th><th scope="colgroup" colspan="3">${labelOf(`${prefix}.benefits[].refused`, f)}</th><th scope="col" rowspan="2">${labelOf(`${prefix}.benefits[].refusalReasons`, f)}</th></tr><tr>${sizes}${sizes}</tr></thead><tbody>${rows}</tbody></table>`;
}

export function latencyTable(
  rows: readonly { id: string; p: Percentiles | undefined; count?: number }[],
  f: Formatter,
): Markup {
  const l = f.locale;
  const withCount = rows.some((r) => r.count !== undefined);
  return h`<table><thead><tr><th scope="col">${STRINGS.figure[l]}</th><th scope="col">${STRINGS.percentile50[l]}</th><th scope="col">${STRINGS.percentile95[l]}</th><th scope="col">${STRINGS.percentile99[l]}</th>${withCount ? h`<th scope="col">${STRINGS.measured[l]}</th>` : ''}</tr></thead><tbody>${rows.map(
    (r) =>
      h`<tr><th scope="row">${labelOf(r.id, f)}</th>${percentileCells(r.p, f)}${withCount ? valueCell(f.number(r.count), r.count !== undefined) : ''}</tr>`,
  )}</tbody></table>`;
}

export function summaryFiguresHtml(prefix: string, figures: SummaryFigures, f: Formatter): Markup {
  const { records, operators, lookups } = figures;
  const id = (path: string): string => `${prefix}.${path}`;
  const recordRows = [
    countRow(id('records.accepted'), records?.accepted, f),
    countRow(id('records.duplicate'), records?.duplicate, f),
    countRow(id('records.superseded'), records?.superseded, f),
    ...countsRows(id('records.rejected'), records?.rejected, f),
  ];
  const operatorRows = [
    countRow(id('operators.recognised'), operators?.recognised, f),
    ...countsRows(id('operators.byProgramme'), operators?.byProgramme, f, { order: PROGRAMMES }),
    ...countsRows(id('operators.byRole'), operators?.byRole, f, { order: ROLES }),
    ...countsRows(id('operators.bySize'), operators?.bySize, f, {
      order: SIZE_ORDER,
      names: (k) => sizeName(k, f),
    }),
  ];
  const lookupRows = [
    countRow(id('lookups.total'), lookups?.total, f),
    countRow(id('lookups.recognised'), lookups?.recognised, f),
    ...countsRows(id('lookups.notRecognised'), lookups?.notRecognised, f),
  ];
  const latency = latencyTable(
    [
      { id: id('latency.toReceiptMs'), p: figures.latency?.toReceiptMs },
      { id: id('latency.toBorderMs'), p: figures.latency?.toBorderMs },
    ],
    f,
  );
  return h`<div class="cols"><div>${figureTable('records', recordRows, f)}${figureTable('lookups', lookupRows, f)}</div><div>${figureTable('operators', operatorRows, f)}</div></div>${benefitsTable(prefix, figures.benefits, f)}${latency}`;
}
