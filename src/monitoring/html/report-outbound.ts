/** The report's first direction: our operators, published to the partner and treated at its border. */

import { PROGRAMMES, ROLES } from '../../protocol/record.ts';
import type { HeldSummary, MonitoringReport } from '../report-types.ts';
import { h, type Markup } from './escape.ts';
import {
  countRow,
  countsRows,
  figureTable,
  labelOf,
  SIZE_ORDER,
  STATUS_ORDER,
  sizeName,
  statusName,
} from './figures.ts';
import type { Formatter } from './format.ts';
import { STRINGS } from './strings.ts';
import { latencyTable, summaryFiguresHtml } from './summary-figures.ts';

/** Who signed what and when: the handle of a held summary's evidence. */
export function heldSummaryMeta(summary: HeldSummary, f: Formatter): Markup {
  const l = f.locale;
  return h`<dl class="meta"><dt>${STRINGS.summaryId[l]}</dt><dd class="mono">${summary.summaryId}</dd><dt>${STRINGS.revision[l]}</dt><dd>${f.number(summary.revision)}</dd><dt>${STRINGS.issuedAt[l]}</dt><dd>${f.dateTime(summary.issuedAt)}</dd><dt>${STRINGS.at[l]}</dt><dd>${f.dateTime(summary.at)}</dd><dt>${STRINGS.digest[l]}</dt><dd class="mono">${summary.digest}</dd></dl>`;
}

export function outboundSection(report: MonitoringReport, f: Formatter): Markup {
  const l = f.locale;
  const { register, records, deliveries, latency, partnerSummary } = report.outbound;
  const status = { order: STATUS_ORDER, names: (k: string) => statusName(k, f) };
  const registerRows = [
    countRow('outbound.register.operators', register.operators, f),
    countRow('outbound.register.consenting', register.consenting, f),
    countRow('outbound.register.publishedToPartner', register.publishedToPartner, f),
    ...countsRows('outbound.register.byStatus', register.byStatus, f, status),
    ...countsRows('outbound.register.byProgramme', register.byProgramme, f, { order: PROGRAMMES }),
    ...countsRows('outbound.register.byRole', register.byRole, f, { order: ROLES }),
    ...countsRows('outbound.register.bySize', register.bySize, f, {
      order: SIZE_ORDER,
      names: (k) => sizeName(k, f),
    }),
  ];
  const deliveryRows = [
    countRow('outbound.records.published', records.published, f),
    ...countsRows('outbound.records.byStatus', records.byStatus, f, status),
    countRow('outbound.deliveries.delivered', deliveries.delivered, f),
    countRow('outbound.deliveries.retried', deliveries.retried, f),
    countRow('outbound.deliveries.dead', deliveries.dead, f),
    countRow('outbound.deliveries.backlog', deliveries.backlog, f),
    countRow('outbound.deliveries.outcomes.accepted', deliveries.outcomes.accepted, f),
    countRow('outbound.deliveries.outcomes.duplicate', deliveries.outcomes.duplicate, f),
    countRow('outbound.deliveries.outcomes.superseded', deliveries.outcomes.superseded, f),
    ...countsRows('outbound.deliveries.outcomes.rejected', deliveries.outcomes.rejected, f),
  ];
  const toReceipt = latency.toReceiptMs;
  const latencyRows = latencyTable(
    [
      {
        id: 'outbound.latency.toReceiptMs',
        p: {
          ...(toReceipt.p50 === null ? {} : { p50: toReceipt.p50 }),
          ...(toReceipt.p95 === null ? {} : { p95: toReceipt.p95 }),
          ...(toReceipt.p99 === null ? {} : { p99: toReceipt.p99 }),
        },
        count: toReceipt.count,
      },
    ],
    f,
  );
  const partner =
    partnerSummary === null
      ? h`<p>${STRINGS.noPartnerSummary[l]}</p>`
      : h`${heldSummaryMeta(partnerSummary, f)}${summaryFiguresHtml('outbound.partnerSummary.figures', partnerSummary.figures, f)}`;
  return h`<section class="major" aria-labelledby="outbound"><h2 id="outbound">${STRINGS.outboundHeading[l]}</h2><div class="cols"><div><h3>${STRINGS.registerHeading[l]}</h3>${figureTable(STRINGS.registerHeading[l], registerRows, f)}</div><div><h3>${STRINGS.recordsHeading[l]}</h3>${figureTable(STRINGS.recordsHeading[l], deliveryRows, f)}</div></div><h3>${STRINGS.latencyHeading[l]}</h3>${latencyRows}<h3>${labelOf('outbound.partnerSummary', f)}</h3>${partner}</section>`;
}
