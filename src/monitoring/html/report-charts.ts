/** The report's charts: the period day by day, benefits by enterprise size, latency percentiles. */
import type { Percentiles } from '../../protocol/monitoring-summary.ts';
import { figureDefinition } from '../definitions.ts';
import type { MonitoringReport } from '../report-types.ts';
import { h, type Markup } from './escape.ts';
import { sizeName } from './figures.ts';
import type { Formatter } from './format.ts';
import { STRINGS } from './strings.ts';
import { barChart, columnChart } from './svg.ts';

function label(id: string, f: Formatter): string {
  return figureDefinition(id)?.label[f.locale] ?? id;
}

const SPLIT = ['sme', 'large', 'unknown'] as const;

function percentilesOf(p: Percentiles | undefined): (number | null)[] {
  return [p?.p50 ?? null, p?.p95 ?? null, p?.p99 ?? null];
}

export function chartsSection(report: MonitoringReport, f: Formatter): Markup {
  const l = f.locale;
  const days = report.daily.map((d) => f.date(d.date));
  const daily = (key: keyof Omit<(typeof report.daily)[number], 'date'>) => ({
    name: label(`daily[].${key}`, f),
    values: report.daily.map((d) => d[key]),
  });
  const lookups = columnChart(
    {
      id: 'chart-lookups',
      title: STRINGS.chartLookups[l],
      categories: days,
      categoryHeading: STRINGS.date[l],
      series: [daily('lookups'), daily('lookupsRecognised')],
    },
    f,
  );
  const records = columnChart(
    {
      id: 'chart-records',
      title: STRINGS.chartRecords[l],
      categories: days,
      categoryHeading: STRINGS.date[l],
      series: [daily('recordsReceived'), daily('recordsPublished')],
    },
    f,
  );
  const benefitsDaily = columnChart(
    {
      id: 'chart-benefits-daily',
      title: `${label('daily[].benefitsApplied', f)} / ${label('daily[].benefitsRefused', f)}`,
      categories: days,
      categoryHeading: STRINGS.date[l],
      series: [daily('benefitsApplied'), daily('benefitsRefused')],
    },
    f,
  );
  const benefits = report.inbound.figures.benefits ?? [];
  const bySize = barChart(
    {
      id: 'chart-benefits',
      title: STRINGS.chartBenefits[l],
      categories: benefits.flatMap((b) => SPLIT.map((size) => `${b.benefitId} · ${sizeName(size, f)}`)),
      categoryHeading: STRINGS.benefit[l],
      series: [
        {
          name: STRINGS.applied[l],
          values: benefits.flatMap((b) => SPLIT.map((size) => b.applied?.[size] ?? null)),
        },
        {
          name: STRINGS.refused[l],
          values: benefits.flatMap((b) => SPLIT.map((size) => b.refused?.[size] ?? null)),
        },
      ],
    },
    f,
  );
  const out = report.outbound.latency.toReceiptMs;
  const inLatency = report.inbound.figures.latency;
  const measures = [
    { id: 'outbound.latency.toReceiptMs', values: [out.p50, out.p95, out.p99] },
    { id: 'inbound.figures.latency.toReceiptMs', values: percentilesOf(inLatency?.toReceiptMs) },
    { id: 'inbound.figures.latency.toBorderMs', values: percentilesOf(inLatency?.toBorderMs) },
  ];
  const directions = (id: string): string =>
    id.startsWith('outbound') ? STRINGS.ourOperators[l] : STRINGS.partnerOperators[l];
  const latency = barChart(
    {
      id: 'chart-latency',
      title: STRINGS.chartLatency[l],
      categories: measures.map((m) => `${label(m.id, f)} (${directions(m.id)})`),
      categoryHeading: STRINGS.figure[l],
      series: [
        { name: STRINGS.percentile50[l], values: measures.map((m) => m.values[0] ?? null) },
        { name: STRINGS.percentile95[l], values: measures.map((m) => m.values[1] ?? null) },
        { name: STRINGS.percentile99[l], values: measures.map((m) => m.values[2] ?? null) },
      ],
    },
    f,
  );
  return h`<section class="major" aria-labelledby="charts"><h2 id="charts">${STRINGS.chartsHeading[l]}</h2>${lookups}${records}${benefitsDaily}${bySize}${latency}</section>`;
}
