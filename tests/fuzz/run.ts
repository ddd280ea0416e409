/**
 * `npm run fuzz [-- --runs N] [--seed S] [--http-every K]`: generated and mutated inputs against the partner
 * and API listeners of a real composed gateway on PostgreSQL, and against the strict readers directly
 * (tests/fuzz/*-targets.ts). Invariants: no 5xx, no invalid record accepted (by any receipt, nor held in the
 * store afterwards), every reader returns rather than throws, and the gateway still answers and accepts a
 * valid record at the end. Prints a table per target; exits 1 on any violation, with the minimal
 * counterexample fast-check shrank it to, and 2 when it cannot run. Runs: --runs, else $FUZZ_RUNS, else 100,000.
 */
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { recordDigest } from '../../src/crypto/digest.ts';
import { freshSigned } from '../support/records.ts';
import { apiTargets } from './api-targets.ts';
import { type FuzzContext, makeFuzzContext, newStats, type TargetStats } from './context.ts';
import { partnerTargets } from './partner-targets.ts';
import { readerTargets } from './reader-targets.ts';
import type { Target } from './target.ts';

interface Options {
  runs: number;
  seed: number;
  httpEvery: number;
}

const USAGE = `usage: npm run fuzz [-- --runs N] [--seed S] [--http-every K]
  --runs N        inputs over every target (default: $FUZZ_RUNS, else 100000)
  --seed S        fast-check seed, to replay a run (default: from the clock)
  --http-every K  one input in K goes over real HTTP, the rest through the composed app (default 50)
  --help          this text
exit codes: 0 no violation, 1 a violation (with its minimal counterexample), 2 cannot run or a usage error`;

/** The options, or undefined for --help; throws on an unknown or malformed argument. */
function parseOptions(argv: readonly string[]): Options | undefined {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      runs: { type: 'string' },
      seed: { type: 'string' },
      'http-every': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help === true) return undefined;
  const int = (text: string | undefined, fallback: number, name: string): number => {
    if (text === undefined) return fallback;
    if (!/^\d{1,9}$/.test(text) || Number(text) < 1) throw new Error(`${name} must be a positive integer`);
    return Number(text);
  };
  return {
    runs: int(values.runs ?? process.env.FUZZ_RUNS, 100_000, '--runs'),
    seed: int(values.seed, Date.now() % 1_000_000_000, '--seed'),
    httpEvery: int(values['http-every'], 50, '--http-every'),
  };
}

interface Failure {
  target: string;
  error: string;
  counterexample: string;
  shrinks: number;
}

/** Inputs run so far over every target, for the progress line printed every PROGRESS_EVERY of them. */
let done = 0;
const PROGRESS_EVERY = 10_000;
const startedAt = Date.now();

async function runTarget(
  t: Target,
  runs: number,
  seed: number,
  stats: TargetStats,
): Promise<Failure | undefined> {
  const property = fc.asyncProperty(t.arbitrary, async (input) => {
    stats.inputs += 1;
    done += 1;
    if (done % PROGRESS_EVERY === 0)
      console.log(`  … ${done} inputs, ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
    await t.run(input, stats);
  });
  const result = await fc.check(property, { numRuns: runs, seed, endOnFailure: false });
  if (!result.failed) return undefined;
  return {
    target: t.name,
    error:
      result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance),
    counterexample: fc.stringify(result.counterexample).slice(0, 2_000),
    shrinks: result.numShrinks,
  };
}

/** Every record the store holds is one that may be accepted; the gateway answers and accepts a fresh one. */
async function finalChecks(ctx: FuzzContext): Promise<string[]> {
  const problems: string[] = [];
  const rows = await ctx.store.query<{ jws_digest: string }>('SELECT jws_digest FROM inbound_record');
  const extra = rows.filter((r) => !ctx.allowed.has(r.jws_digest));
  if (extra.length > 0)
    problems.push(`the store holds ${extra.length} record(s) that are not valid: ${extra[0]?.jws_digest}`);
  const stats = newStats();
  const live = await ctx.send('partner', { method: 'GET', url: '/health/live' }, stats, 'liveness');
  if (live.status !== 200) problems.push(`the partner listener's liveness answered ${live.status}`);
  const { jws } = await freshSigned('CL', ctx.clSigner, 1);
  ctx.allowed.add(recordDigest(jws[0]!));
  const res = await ctx.send(
    'partner',
    {
      method: 'POST',
      url: '/mra/v1/records',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ records: jws }),
    },
    stats,
    'valid record at the end',
  );
  const receipt = res.status === 200 ? (JSON.parse(res.body) as { receipt: string }).receipt : '';
  const payload =
    receipt === '' ? '' : Buffer.from(receipt.split('.')[1] ?? '', 'base64url').toString('utf8');
  if (!payload.includes('"outcome":"accepted"'))
    problems.push(`a valid record was not accepted at the end: ${res.status} ${res.body.slice(0, 300)}`);
  return problems;
}

function histogram(statuses: Map<string, number>): string {
  return [...statuses.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${s}:${n}`)
    .join(' ');
}

async function main(): Promise<number> {
  let options: Options | undefined;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`fuzz: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  if (options === undefined) {
    console.log(USAGE);
    return 0;
  }
  const started = Date.now();
  const ctx = await makeFuzzContext({ httpEvery: options.httpEvery, seeds: 48 });
  const failures: Failure[] = [];
  const table: { name: string; stats: TargetStats; ms: number }[] = [];
  try {
    const targets = [...partnerTargets(ctx), ...apiTargets(ctx), ...readerTargets(ctx)];
    const total = targets.reduce((n, t) => n + t.weight, 0);
    console.log(
      `fuzz: ${options.runs} inputs over ${targets.length} targets, seed ${options.seed}, 1 in ${options.httpEvery} over real HTTP`,
    );
    for (const [i, t] of targets.entries()) {
      const runs = Math.max(1, Math.ceil((options.runs * t.weight) / total));
      const stats = newStats();
      const at = Date.now();
      const failure = await runTarget(t, runs, options.seed + i, stats);
      table.push({ name: t.name, stats, ms: Date.now() - at });
      console.log(
        `  ${t.name}: ${stats.inputs} inputs in ${((Date.now() - at) / 1000).toFixed(1)} s${failure ? ' — VIOLATION' : ''}`,
      );
      if (failure !== undefined) failures.push(failure);
    }
    const final = await finalChecks(ctx);
    for (const p of final)
      failures.push({ target: 'after the run', error: p, counterexample: '-', shrinks: 0 });
  } finally {
    await ctx.close();
  }
  printSummary(table, failures, Date.now() - started);
  return failures.length === 0 ? 0 : 1;
}

function printSummary(
  table: readonly { name: string; stats: TargetStats; ms: number }[],
  failures: readonly Failure[],
  elapsedMs: number,
): void {
  const width = Math.max(...table.map((r) => r.name.length), 10);
  console.log(
    `\n${'target'.padEnd(width)}  ${'inputs'.padStart(7)}  ${'http'.padStart(5)}  ${'5xx'.padStart(4)}  ${'acc-inv'.padStart(7)}  ${'not-rfc9457'.padStart(11)}  ${'secs'.padStart(6)}  statuses`,
  );
  let inputs = 0;
  let fiveXx = 0;
  let acceptedInvalid = 0;
  for (const { name, stats: s, ms } of table) {
    inputs += s.inputs;
    fiveXx += s.fiveXx;
    acceptedInvalid += s.acceptedInvalid;
    console.log(
      `${name.padEnd(width)}  ${String(s.inputs).padStart(7)}  ${String(s.http).padStart(5)}  ${String(s.fiveXx).padStart(4)}  ${String(s.acceptedInvalid).padStart(7)}  ${String(s.notProblem).padStart(11)}  ${(ms / 1000).toFixed(1).padStart(6)}  ${histogram(s.statuses) || '-'}`,
    );
  }
  console.log(
    `${'total'.padEnd(width)}  ${String(inputs).padStart(7)}  ${''.padStart(5)}  ${String(fiveXx).padStart(4)}  ${String(acceptedInvalid).padStart(7)}`,
  );
  console.log(
    `\nelapsed ${(elapsedMs / 1000).toFixed(1)} s; 5xx=${fiveXx}; accepted-invalid=${acceptedInvalid}; violations=${failures.length}`,
  );
  for (const f of failures) {
    console.error(`\nVIOLATION in ${f.target}: ${f.error}`);
    console.error(`  minimal counterexample (after ${f.shrinks} shrinks): ${f.counterexample}`);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(
      `fuzz: cannot run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exitCode = 2;
  },
);
