/** The report's second direction: the partner's operators, received by us and treated at our border. */
import type { MonitoringReport } from '../report-types.ts';
import { h, type Markup } from './escape.ts';
import { countRow, countsRows, figureTable, labelOf, STATUS_ORDER, statusName, textRow } from './figures.ts';
import type { Formatter } from './format.ts';
import { heldSummaryMeta } from './report-outbound.ts';
import { STRINGS } from './strings.ts';
import { summaryFiguresHtml } from './summary-figures.ts';

export function inboundSection(report: MonitoringReport, f: Formatter): Markup {
  const l = f.locale;
  const { figures, operators, statusChanges, freshness, summaryIssued } = report.inbound;
  const status = { order: STATUS_ORDER, names: (k: string) => statusName(k, f) };
  const heldRows = [
    countRow('inbound.operators.held', operators.held, f),
    ...countsRows('inbound.operators.byStatus', operators.byStatus, f, status),
    ...countsRows('inbound.statusChanges', statusChanges, f, status),
  ];
  const reconciliation = freshness.lastReconciliation;
  const freshnessRows = [
    textRow(
      'inbound.freshness.lastReceiptAt',
      freshness.lastReceiptAt && f.dateTime(freshness.lastReceiptAt),
      f,
    ),
    textRow(
      'inbound.freshness.lastPulledAt',
      freshness.lastPulledAt && f.dateTime(freshness.lastPulledAt),
      f,
    ),
    textRow(
      'inbound.freshness.lastReconciliation',
      reconciliation &&
        `${f.dateTime(reconciliation.at)} (${reconciliation.inSync ? STRINGS.inSync[l] : STRINGS.notInSync[l]})`,
      f,
    ),
  ];
  const issued =
    summaryIssued === null ? h`<p>${STRINGS.noSummaryIssued[l]}</p>` : heldSummaryMeta(summaryIssued, f);
  return h`<section class="major" aria-labelledby="inbound"><h2 id="inbound">${STRINGS.inboundHeading[l]}</h2><h3>${STRINGS.borderHeading[l]}</h3>${summaryFiguresHtml('inbound.figures', figures, f)}<div class="cols"><div><h3>${STRINGS.heldHeading[l]}</h3>${figureTable(STRINGS.heldHeading[l], heldRows, f)}</div><div><h3>${STRINGS.freshnessHeading[l]}</h3>${figureTable(STRINGS.freshnessHeading[l], freshnessRows, f)}</div></div><h3>${labelOf('inbound.summaryIssued', f)}</h3>${issued}</section>`;
}
