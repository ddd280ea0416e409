/** The table of bench:quick: each figure beside its baseline of the same run, its aim and whether it is met. */
import { AIMS, type Aim, showAim, verdict } from './aims.ts';
import { fmt, printTable } from './format.ts';

/** What a benchmark printed on its `result` line. */
export type Result = Record<string, number | boolean>;

const num = (r: Result | undefined, key: string) =>
  typeof r?.[key] === 'number' ? (r[key] as number) : Number.NaN;
const show = (n: number, unit: string) => (Number.isNaN(n) ? 'n/a' : `${fmt(n)} ${unit}`);
const figure = (n: number, unit = '') =>
  Number.isNaN(n) ? 'n/a' : `${Number.isInteger(n) ? fmt(n) : n}${unit === '' ? '' : ` ${unit}`}`;
const share = (n: number) => (Number.isNaN(n) ? 'n/a' : `${Math.round(n * 100)} %`);

/** One line of the table: what was measured, its baseline, the figure judged and the aim it is judged by. */
interface Row {
  bench: string;
  measured: string;
  baseline: string;
  value: number;
  unit?: string;
  aim?: Aim;
  other?: number;
}

function rowsOf(results: Readonly<Record<string, Result | undefined>>): Row[] {
  const { inbound, lookup, propagation: prop, publishing, start, scale } = results;
  const inboundOther = num(inbound, 'postgresOtherCpuShare');
  // The aim is judged on the webhook; the record applied at the partner comes before it and is shown beside.
  const webhookP99 = num(prop, 'webhookP99Ms');
  const appliedP99 = Math.max(num(prop, 'latencyCLP99Ms'), num(prop, 'latencyARP99Ms'));
  const rows: Row[] = [
    {
      bench: 'inbound',
      measured: show(num(inbound, 'postgresRecordsPerSecond'), 'durable records/s'),
      baseline: show(num(inbound, 'rawVerifyPerSecond'), 'raw ES256 verify/s'),
      value: num(inbound, 'postgresRatio'),
      aim: AIMS.inboundRatio,
      other: inboundOther,
    },
    {
      bench: 'inbound',
      measured: show(num(inbound, 'postgresRecordsPerCpuSecond'), 'records per cpu s'),
      baseline: show(num(inbound, 'rawVerifyPerCpuSecond'), 'verify per cpu s'),
      value: num(inbound, 'postgresCpuRatio'),
      aim: AIMS.inboundRatio,
      other: inboundOther,
    },
    {
      bench: 'inbound',
      measured: 'records per cpu s, database cpu left out',
      baseline: show(num(inbound, 'rawVerifyPerCpuSecond'), 'verify per cpu s'),
      value: num(inbound, 'postgresCpuRatioWithoutDatabase'),
      aim: AIMS.inboundRatioWithoutDatabase,
      other: inboundOther,
    },
    {
      bench: 'inbound',
      measured: show(num(inbound, 'postgresRecordsPerCpuSecond'), 'records per cpu s'),
      baseline: show(num(inbound, 'bareRecordsPerCpuSecond'), 'per cpu s, bare fastify route'),
      value: num(inbound, 'postgresBareCpuRatio'),
      other: inboundOther,
    },
    {
      bench: 'lookup',
      measured: show(num(lookup, 'lookupPerSecond'), 'single lookups/s'),
      baseline: show(num(lookup, 'helloPerSecond'), 'req/s, bare fastify hello'),
      value: num(lookup, 'ratio'),
      aim: AIMS.lookupRatio,
    },
    {
      bench: 'lookup',
      measured: 'single lookup p99',
      baseline: '',
      value: num(lookup, 'lookupP99Ms'),
      unit: 'ms',
      aim: AIMS.lookupP99Ms,
    },
    {
      bench: 'lookup',
      measured: '3,000-item manifest p99, compact form',
      baseline: `full form p99 ${figure(num(lookup, 'batchP99Ms'), 'ms')}`,
      value: num(lookup, 'compactBatchP99Ms'),
      unit: 'ms',
      aim: AIMS.manifestP99Ms,
    },
    {
      bench: 'propagation',
      measured: `webhook p99, worse partner${Number.isNaN(num(prop, 'achievedRate')) ? '' : ` at ${figure(num(prop, 'achievedRate'))}/s`}`,
      baseline: `fastify echo p99 ${figure(num(prop, 'echoP99Ms'), 'ms')}; applied p99 ${figure(appliedP99, 'ms')}`,
      value: webhookP99,
      unit: 'ms',
      aim: AIMS.propagationP99Ms,
      other: num(prop, 'otherCpuSharePhase1'),
    },
    {
      bench: 'propagation',
      measured: show(num(prop, 'recordsPerSecond') * 2, 'deliveries/s'),
      baseline: show(num(prop, 'rawVerifyPerSecond'), 'raw ES256 verify/s'),
      value: num(prop, 'deliveriesVerifyRatio'),
      other: num(prop, 'otherCpuSharePhase2'),
    },
    {
      bench: 'publishing',
      measured: show(num(publishing, 'recordsPerSecond'), 'imported records/s'),
      baseline: show(num(publishing, 'rawSignPerSecond'), 'raw ES256 sign/s'),
      value: num(publishing, 'ratio'),
      aim: AIMS.publishingRatio,
      other: num(publishing, 'otherCpuShare'),
    },
    {
      bench: 'publishing',
      measured: show(num(publishing, 'recordsPerCpuSecond'), 'records per cpu s'),
      baseline: show(num(publishing, 'rawSignPerCpuSecond'), 'sign per cpu s'),
      value: num(publishing, 'cpuRatio'),
      aim: AIMS.publishingRatio,
      other: num(publishing, 'otherCpuShare'),
    },
  ];
  const at1M = start?.extrapolated === true ? 'extrapolated to 1M' : 'at 1M';
  rows.push(
    {
      bench: 'start',
      measured: `ready, ${at1M} operators (${figure(num(start, 'operators'))} run)`,
      baseline: `cold ${figure(num(start, 'coldReadySeconds'), 's')}, snapshot ${figure(num(start, 'snapshotReadySeconds'), 's')}`,
      value: num(start, 'readySeconds1M'),
      unit: 's',
      aim: AIMS.startSeconds,
    },
    {
      bench: 'start',
      measured: `read model memory, ${at1M} operators`,
      baseline: `${figure(num(start, 'readModelRssMiB'), 'MiB')} at the run's size`,
      value: num(start, 'readModelMiB1M'),
      unit: 'MiB',
      aim: AIMS.readModelMiB,
    },
    {
      bench: 'scale',
      measured: `inbound, 2 processes: ${show(num(scale, 'inbound2PerSecond'), 'records/s')}`,
      baseline: show(num(scale, 'inbound1PerSecond'), 'records/s, 1 process'),
      value: num(scale, 'inboundGrowth'),
    },
    {
      bench: 'scale',
      measured: `lookups, 2 processes: ${show(num(scale, 'lookup2PerSecond'), 'lookups/s')}`,
      baseline: show(num(scale, 'lookup1PerSecond'), 'lookups/s, 1 process'),
      value: num(scale, 'lookupGrowth'),
    },
  );
  return rows.filter((r) => r.bench in results);
}

export function printSummary(results: Readonly<Record<string, Result | undefined>>, seconds: number): void {
  console.log(`\nbench:quick, ${seconds.toFixed(0)} s`);
  printTable(
    ['benchmark', 'figure', 'baseline (same run)', 'ratio or figure', 'aim', 'met', 'other load'],
    rowsOf(results).map((r) => [
      r.bench,
      r.measured,
      r.baseline,
      figure(r.value, r.unit),
      r.aim === undefined ? '—' : showAim(r.aim),
      r.aim === undefined ? '—' : verdict(r.aim, r.value),
      r.other === undefined ? '' : share(r.other),
    ]),
  );
  console.log(
    '"other load": share of the machine\'s cpu taken by processes outside the benchmark during its timed phase. ' +
      'The quick runs are small: the start figures are extrapolated to 1,000,000 operators and the ' +
      'propagation figure is one run of 5 s (the aim is judged over 5 such runs by bench:propagation --runs 5).',
  );
}
