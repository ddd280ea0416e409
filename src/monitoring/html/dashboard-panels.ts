/**
 * The dashboard's panels: partners and their freshness, queues and dead letters, the monitoring summaries,
 * and the last 30 days as charts. Rendered on the server both for the first page and for every refresh (the
 * JSON of GET /dashboard/data carries them), so that the page and its refreshes draw alike.
 */
import type { DashboardData, DashboardDay, PartnerPanel, StateCounts } from '../dashboard-data.ts';
import { QUEUE_STATES } from '../dashboard-data.ts';
import { h, type Markup } from './escape.ts';
import { mraStatusName } from './figures.ts';
import type { Formatter } from './format.ts';
import { STRINGS } from './strings.ts';
import { columnChart } from './svg.ts';

function when(value: string | null, f: Formatter): Markup {
  return value === null ? h`<span class="unknown">${f.notKnown}</span>` : h`${f.dateTime(value)}`;
}

function stateName(state: string, f: Formatter): string {
  switch (state) {
    case 'pending':
      return STRINGS.statePending[f.locale];
    case 'retrying':
      return STRINGS.stateRetrying[f.locale];
    case 'delivered':
      return STRINGS.stateDelivered[f.locale];
    case 'dead':
      return STRINGS.stateDead[f.locale];
    default:
      return state;
  }
}

function partnersPanel(partners: readonly PartnerPanel[], f: Formatter): Markup {
  const l = f.locale;
  const rows = partners.map((p) => {
    const reconciliation = p.lastReconciliation;
    const reconciled =
      reconciliation === null
        ? h`<span class="unknown">${f.notKnown}</span>`
        : h`${f.dateTime(reconciliation.at)} <span class="${reconciliation.inSync ? 'ok' : 'alert'}">(${reconciliation.inSync ? STRINGS.inSync[l] : STRINGS.notInSync[l]})</span>`;
    const pullError = p.lastPullError === null ? '' : h`<br><span class="alert">${p.lastPullError}</span>`;
    return h`<tr data-partner="${p.adminId}"><th scope="row">${p.adminId}${p.name === null ? '' : h`<br><small>${p.name}</small>`}</th><td><code>${p.mraId}</code><br>${mraStatusName(p.mraStatus, f)}</td><td>${when(p.lastReceiptAt, f)}</td><td>${when(p.lastPulledAt, f)}${pullError}</td><td>${reconciled}</td><td class="num">${f.number(p.operatorsHeld)}</td></tr>`;
  });
  return h`<section aria-labelledby="partners"><h2 id="partners">${STRINGS.partnersHeading[l]}</h2><table><thead><tr><th scope="col">${STRINGS.partner[l]}</th><th scope="col">${STRINGS.mraStatus[l]}</th><th scope="col">${STRINGS.lastReceipt[l]}</th><th scope="col">${STRINGS.lastPull[l]}</th><th scope="col">${STRINGS.lastReconciliation[l]}</th><th scope="col">${STRINGS.operatorsHeld[l]}</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function stateCells(counts: StateCounts, f: Formatter): Markup[] {
  return QUEUE_STATES.map((state) => {
    const n = counts[state];
    const alert = state === 'dead' && n > 0;
    return h`<td class="num${alert ? ' alert' : ''}" data-state="${state}">${f.number(n)}</td>`;
  });
}

function queuesPanel(data: DashboardData, f: Formatter): Markup {
  const l = f.locale;
  const head = h`<tr><th scope="col"></th>${QUEUE_STATES.map((s) => h`<th scope="col">${stateName(s, f)}</th>`)}</tr>`;
  const outbox = data.partners.map(
    (p) => h`<tr data-outbox="${p.adminId}"><th scope="row">${p.adminId}</th>${stateCells(p.outbox, f)}</tr>`,
  );
  const summaries = data.partners.map(
    (p) =>
      h`<tr data-summaries="${p.adminId}"><th scope="row">${p.adminId}</th><td class="num">${f.number(p.summaries.received)}</td><td>${when(p.summaries.lastReceivedAt, f)}</td><td class="num">${f.number(p.summaries.issued)}</td><td class="num${p.summaries.undelivered > 0 ? ' alert' : ''}">${f.number(p.summaries.undelivered)}</td></tr>`,
  );
  return h`<section aria-labelledby="queues"><h2 id="queues">${STRINGS.queuesHeading[l]}</h2><div class="cols"><div><h3>${STRINGS.outboxHeading[l]}</h3><table id="outbox">${head}${outbox}</table></div><div><h3>${STRINGS.notificationHeading[l]}</h3><table id="notifications">${head}<tr><th scope="row">${STRINGS.total[l]}</th>${stateCells(data.notifications, f)}</tr></table></div></div><h3>${STRINGS.summariesHeading[l]}</h3><table id="summaries"><thead><tr><th scope="col">${STRINGS.partner[l]}</th><th scope="col">${STRINGS.summariesIn[l]}</th><th scope="col">${STRINGS.lastReceipt[l]}</th><th scope="col">${STRINGS.summariesOut[l]}</th><th scope="col">${STRINGS.summariesUndelivered[l]}</th></tr></thead><tbody>${summaries}</tbody></table></section>`;
}

function todayPanel(today: DashboardDay | undefined, f: Formatter): Markup {
  const l = f.locale;
  const item = (id: string, label: string, value: number | undefined) =>
    h`<dt>${label}</dt><dd id="${id}" class="num">${f.number(value)}</dd>`;
  return h`<dl class="meta today">${item('today-lookups', STRINGS.chartLookups[l], today?.lookups)}${item('today-recognised', STRINGS.recognised[l], today?.lookupsRecognised)}${item('today-benefits-applied', STRINGS.benefitsApplied[l], today?.benefitsApplied)}${item('today-benefits-refused', STRINGS.benefitsRefused[l], today?.benefitsRefused)}${item('today-records-received', STRINGS.recordsReceived[l], today?.recordsReceived)}${item('today-records-published', STRINGS.recordsPublished[l], today?.recordsPublished)}</dl>`;
}

function historyPanel(days: readonly DashboardDay[], f: Formatter): Markup {
  const l = f.locale;
  const categories = days.map((d) => f.date(d.date));
  const chart = (id: string, title: string, series: { name: string; values: (number | null)[] }[]) =>
    columnChart({ id, title, categories, categoryHeading: STRINGS.date[l], series }, f);
  return h`<section aria-labelledby="history"><h2 id="history">${STRINGS.last30Heading[l]}</h2><h3>${STRINGS.today[l]} (${days.length === 0 ? '' : f.date(days[days.length - 1]?.date ?? '')})</h3>${todayPanel(days[days.length - 1], f)}${chart(
    'chart-recognition',
    STRINGS.chartLookups[l],
    [
      { name: STRINGS.chartLookups[l], values: days.map((d) => d.lookups) },
      { name: STRINGS.recognised[l], values: days.map((d) => d.lookupsRecognised) },
    ],
  )}${chart('chart-benefits', STRINGS.chartBenefitsDaily[l], [
    { name: STRINGS.benefitsApplied[l], values: days.map((d) => d.benefitsApplied) },
    { name: STRINGS.benefitsRefused[l], values: days.map((d) => d.benefitsRefused) },
  ])}${chart('chart-records', STRINGS.chartRecords[l], [
    { name: STRINGS.recordsReceived[l], values: days.map((d) => d.recordsReceived) },
    { name: STRINGS.recordsPublished[l], values: days.map((d) => d.recordsPublished) },
  ])}${chart('chart-latency', STRINGS.dashboardLatency[l], [
    {
      name: `${STRINGS.toPartnerReceipt[l]} · ${STRINGS.percentile50[l]}`,
      values: days.map((d) => d.toReceiptP50Ms),
    },
    {
      name: `${STRINGS.toPartnerReceipt[l]} · ${STRINGS.percentile95[l]}`,
      values: days.map((d) => d.toReceiptP95Ms),
    },
    {
      name: `${STRINGS.toOurReceipt[l]} · ${STRINGS.percentile50[l]}`,
      values: days.map((d) => d.receivedP50Ms),
    },
    {
      name: `${STRINGS.toOurReceipt[l]} · ${STRINGS.percentile95[l]}`,
      values: days.map((d) => d.receivedP95Ms),
    },
  ])}</section>`;
}

export function dashboardPanels(data: DashboardData, f: Formatter): Markup {
  return h`${partnersPanel(data.partners, f)}${queuesPanel(data, f)}${historyPanel(data.days, f)}`;
}
