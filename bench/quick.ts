/**
 * Every benchmark, small, one after the other, and one table: each figure beside its baseline of the same run,
 * its ratio, its aim (bench/lib/aims.ts) and whether the aim is met.
 *
 *   npm run bench:quick
 *   npm run bench:quick -- --only inbound,propagation
 *
 * Each benchmark runs as its own process with the options below and its usual clean-up (databases, Redis keys,
 * processes, temporary folders; also on failure, Ctrl-C or SIGTERM, which this process passes on). Each is
 * stopped after RUN_LIMIT_MS. A benchmark whose script is not in the tree is left out and said so.
 * BENCH_PG_URL and BENCH_REDIS_URL are passed through; the other BENCH_* variables are not, so that the quick
 * figures stay comparable from run to run.
 *
 * A benchmark reports to this process by one line on its stdout: `result ` and a flat JSON object of numbers
 * and booleans; its exit code says whether the run is valid (an aim not met is still a valid run).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, stoppable } from './lib/gateway-process.ts';
import { printSummary, type Result } from './lib/quick-table.ts';

const RUN_LIMIT_MS = 150_000;

const RUNS = [
  { name: 'inbound', script: 'bench/inbound.ts', args: ['--batches', '8', '--verify-seconds', '2'] },
  {
    name: 'lookup',
    script: 'bench/lookup.ts',
    args: ['--operators', '20000', '--seconds', '3', '--batches', '20'],
  },
  {
    // One run of the propagation aim: 100 decisions a second for 5 s (the full form runs 5 of them).
    name: 'propagation',
    script: 'bench/propagation.ts',
    args: [
      '--rate',
      '100',
      '--seconds',
      '5',
      '--records',
      '3000',
      '--verify-seconds',
      '2',
      '--max-minutes',
      '2',
    ],
  },
  {
    name: 'publishing',
    script: 'bench/publishing.ts',
    args: ['--operators', '10000', '--sign-seconds', '2'],
  },
  { name: 'start', script: 'bench/start.ts', args: ['--operators', '20000'] },
  { name: 'scale', script: 'bench/scale.ts', args: ['--no-replicas', '--batches', '4', '--seconds', '2'] },
] as const;

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
  return parseResult(line.slice('result '.length));
}

/** The result object, or undefined (said so) when the line is not a flat JSON object. */
function parseResult(text: string): Result | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Result;
  } catch {
    // said below
  }
  console.error(`bench:quick: a result line that is not a JSON object: ${text.slice(0, 200)}`);
  return undefined;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' } } });
  const only = values.only?.split(',').map((s) => s.trim());
  const unknown = only?.filter((name) => !RUNS.some((r) => r.name === name)) ?? [];
  if (unknown.length > 0) throw new Error(`--only: no benchmark ${unknown.join(', ')}`);
  const results: Record<string, Result | undefined> = {};
  const absent: string[] = [];
  const started = Date.now();
  for (const r of RUNS) {
    if (interrupted) break;
    if (only !== undefined && !only.includes(r.name)) continue;
    if (!existsSync(join(ROOT, r.script))) {
      absent.push(r.name);
      continue;
    }
    console.log(`\n== ${r.name}: node ${r.script} ${r.args.join(' ')}`);
    results[r.name] = await run(r.script, r.args);
  }
  printSummary(results, (Date.now() - started) / 1000);
  if (absent.length > 0) console.log(`not in this tree, left out: ${absent.join(', ')}`);
  const failed = Object.entries(results)
    .filter(([, r]) => r === undefined)
    .map(([name]) => name);
  if (failed.length > 0 || interrupted) {
    console.error(`bench:quick: ${interrupted ? 'interrupted' : 'failed or stopped'}: ${failed.join(', ')}`);
    process.exitCode = interrupted ? 130 : 1;
  }
}

main().catch((error: unknown) => {
  console.error(`bench:quick: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
