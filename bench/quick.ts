/**
 * All three benchmarks, small, one after the other, and one table of ratios: what a change costs, measured
 * against baselines of the same kind taken in the same runs on the same machine.
 *
 *   npm run bench:quick
 *
 * Each benchmark runs as its own process with the options below and its usual clean-up (databases, Redis keys,
 * processes, temporary folders; also on failure, Ctrl-C or SIGTERM, which this process passes on). Each is
 * stopped after RUN_LIMIT_MS. BENCH_PG_URL and BENCH_REDIS_URL are passed through; the other BENCH_* variables
 * are not, so that the quick figures stay comparable from run to run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fmt } from './lib/format.ts';
import { ROOT, stoppable } from './lib/gateway-process.ts';

const RUN_LIMIT_MS = 150_000;

const RUNS = [
  { name: 'inbound', script: 'bench/inbound.ts', args: ['--batches', '8', '--verify-seconds', '2'] },
  {
    name: 'lookup',
    script: 'bench/lookup.ts',
    args: ['--operators', '20000', '--seconds', '3', '--batches', '20'],
  },
  {
    name: 'propagation',
    script: 'bench/propagation.ts',
    args: [
      '--rate',
      '50',
      '--seconds',
      '6',
      '--records',
      '3000',
      '--verify-seconds',
      '2',
      '--max-minutes',
      '2',
    ],
  },
] as const;

type Result = Record<string, number | boolean>;

let current: ChildProcess | undefined;
let interrupted = false;
function onSignal(): void {
  interrupted = true;
  // The benchmark cleans up on SIGTERM; this process ends when it has.
  current?.kill('SIGTERM');
}
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

/** Runs one benchmark, passing its report through, and answers its `result` line (undefined if it failed). */
async function run(script: string, args: readonly string[]): Promise<Result | undefined> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BENCH_')) env[k] = v;
  if (process.env.BENCH_PG_URL !== undefined) env.BENCH_PG_URL = process.env.BENCH_PG_URL;
  if (process.env.BENCH_REDIS_URL !== undefined) env.BENCH_REDIS_URL = process.env.BENCH_REDIS_URL;
  const child = spawn(process.execPath, [script, ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  current = child;
  const bench = stoppable(child);
  let output = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    output += chunk;
    process.stdout.write(chunk);
  });
  const code = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const limit = setTimeout(() => {
    console.error(`bench:quick: ${script} over ${RUN_LIMIT_MS / 1000} s, stopping it`);
    void bench.stop();
  }, RUN_LIMIT_MS);
  const exitCode = await code;
  clearTimeout(limit);
  current = undefined;
  const line = output.split('\n').find((l) => l.startsWith('result '));
  if (exitCode !== 0 || line === undefined) return undefined;
  return JSON.parse(line.slice('result '.length)) as Result;
}

const num = (r: Result | undefined, key: string) =>
  typeof r?.[key] === 'number' ? (r[key] as number) : Number.NaN;
const show = (n: number, unit: string) => (Number.isNaN(n) ? 'n/a' : `${fmt(n)} ${unit}`);
const ratio = (n: number, note = '') => (Number.isNaN(n) ? 'n/a' : `${n}${note}`);
const share = (n: number) => (Number.isNaN(n) ? 'n/a' : `${Math.round(n * 100)} %`);

async function main(): Promise<void> {
  const results: Record<string, Result | undefined> = {};
  const started = Date.now();
  for (const r of RUNS) {
    if (interrupted) break;
    console.log(`\n== ${r.name}: node ${r.script} ${r.args.join(' ')}`);
    results[r.name] = await run(r.script, r.args);
  }
  const inbound = results.inbound;
  const lookup = results.lookup;
  const prop = results.propagation;
  const worstP99 = Math.max(num(prop, 'latencyCLP99Ms'), num(prop, 'latencyARP99Ms'));
  const rows: [string, string, string, string, string][] = [
    [
      'inbound',
      show(num(inbound, 'postgresRecordsPerSecond'), 'durable records/s'),
      show(num(inbound, 'bareRecordsPerSecond'), 'records/s, bare fastify route'),
      ratio(num(inbound, 'postgresBareRatio')),
      share(num(inbound, 'postgresOtherCpuShare')),
    ],
    [
      'inbound',
      show(num(inbound, 'postgresRecordsPerSecond'), 'durable records/s'),
      show(num(inbound, 'rawVerifyPerSecond'), 'raw ES256 verify/s'),
      ratio(num(inbound, 'postgresRatio')),
      share(num(inbound, 'postgresOtherCpuShare')),
    ],
    [
      'inbound',
      show(num(inbound, 'postgresRecordsPerCpuSecond'), 'records per cpu s'),
      show(num(inbound, 'bareRecordsPerCpuSecond'), 'per cpu s, bare route'),
      ratio(num(inbound, 'postgresBareCpuRatio')),
      share(num(inbound, 'postgresOtherCpuShare')),
    ],
    [
      'inbound',
      show(num(inbound, 'postgresRecordsPerCpuSecond'), 'records per cpu s'),
      show(num(inbound, 'rawVerifyPerCpuSecond'), 'verify per cpu s'),
      ratio(num(inbound, 'postgresCpuRatio')),
      share(num(inbound, 'postgresOtherCpuShare')),
    ],
    [
      'lookup',
      show(num(lookup, 'lookupPerSecond'), 'single lookups/s'),
      show(num(lookup, 'helloPerSecond'), 'req/s, bare fastify hello'),
      ratio(num(lookup, 'ratio')),
      'n/a',
    ],
    [
      'propagation',
      show(worstP99, 'ms applied p99, worse partner'),
      `${ratio(num(prop, 'echoP99Ms'))} ms p99, bare fastify echo`,
      ratio(num(prop, 'p99EchoRatio'), ' (lower is better)'),
      share(num(prop, 'otherCpuSharePhase1')),
    ],
    [
      'propagation',
      show(num(prop, 'recordsPerSecond') * 2, 'deliveries/s'),
      show(num(prop, 'rawVerifyPerSecond'), 'raw ES256 verify/s'),
      ratio(num(prop, 'deliveriesVerifyRatio')),
      share(num(prop, 'otherCpuSharePhase2')),
    ],
  ];
  const head: [string, string, string, string, string] = [
    'benchmark',
    'figure',
    'baseline (same run)',
    'ratio',
    'other load',
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const print = (cells: readonly string[]) =>
    console.log(`| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`);
  console.log(`\nbench:quick, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  print(head);
  print(widths.map((w) => '-'.repeat(w)));
  for (const row of rows) print(row);
  console.log(
    '"other load": share of the machine\'s cpu taken by processes outside the benchmark during its timed phase.',
  );
  const failed = RUNS.filter((r) => results[r.name] === undefined).map((r) => r.name);
  if (failed.length > 0) {
    console.error(`bench:quick: ${interrupted ? 'interrupted' : 'failed or stopped'}: ${failed.join(', ')}`);
    process.exitCode = interrupted ? 130 : 1;
  }
}

main().catch((error: unknown) => {
  console.error(`bench:quick: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
