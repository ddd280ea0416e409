/** Options of the propagation benchmark (argument, else environment variable); see bench/propagation.ts. */
import { parseArgs } from 'node:util';
import { intOption, pgUrlOption } from '../lib/options.ts';

export const PUBLISHER = 'PE';
export const RECEIVERS = ['CL', 'AR'] as const;
export const NAMES: Record<string, string> = {
  PE: 'SUNAT Peru',
  CL: 'Servicio Nacional de Aduanas Chile',
  AR: 'Dirección General de Aduanas Argentina',
};
/** Requests of phase 1 in flight at most; a call that would exceed it waits (and the rate shows it). */
export const MAX_IN_FLIGHT = 256;
/** After the last decision of phase 1, how long the partners get to apply the rest. */
export const DRAIN_MS = 30_000;
/** The suite run beside the latency runs by --beside-tests unless --tests names others. */
export const DEFAULT_TESTS = 'tests/unit';

export interface Options {
  rate: number;
  seconds: number;
  /** Latency runs (phase 1 repeated), each of `seconds`. */
  runs: number;
  /** A run of this many seconds at the rate before the timed runs, printed and not counted; 0: none. */
  warmUpSeconds: number;
  /** Test files or folders vitest runs beside the latency runs; undefined: no test suite. */
  besideTests: readonly string[] | undefined;
  /**
   * Each receiver's limit per caller (server.rateLimitPerMinute) and the publisher's pace under it
   * (outbound.requestsPerMinute); undefined: the defaults.
   */
  partnerLimit: number | undefined;
  records: number;
  maxMinutes: number;
  pollMs: number;
  verifySeconds: number;
  cpuProfDir: string | undefined;
  pgUrl: string;
  redisUrl: string;
}

export function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string' },
      seconds: { type: 'string' },
      runs: { type: 'string' },
      'warm-up': { type: 'string' },
      'beside-tests': { type: 'boolean' },
      tests: { type: 'string' },
      'partner-limit': { type: 'string' },
      records: { type: 'string' },
      'max-minutes': { type: 'string' },
      'poll-ms': { type: 'string' },
      'verify-seconds': { type: 'string' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(
      'npm run bench:propagation -- [--rate 1..1000] [--seconds 0..120] [--runs 1..20] [--warm-up 0..30] ' +
        '[--beside-tests [--tests tests/unit,...]] [--partner-limit 60..60000] [--records 0..200000] ' +
        '[--max-minutes 1..60] [--poll-ms 5..200] [--verify-seconds 1..10] [--cpu-prof DIR]   ' +
        '(env: BENCH_PG_URL, BENCH_REDIS_URL, BENCH_*)',
    );
    process.exit(0);
  }
  const env = process.env;
  return {
    rate: intOption('rate', values.rate ?? env.BENCH_RATE, 100, 1, 1000),
    seconds: intOption('seconds', values.seconds ?? env.BENCH_SECONDS, 20, 0, 120),
    runs: intOption('runs', values.runs ?? env.BENCH_RUNS, 1, 1, 20),
    warmUpSeconds: intOption('warm-up', values['warm-up'] ?? env.BENCH_WARM_UP, 3, 0, 30),
    besideTests:
      values['beside-tests'] === true || env.BENCH_BESIDE_TESTS === '1'
        ? testPaths(values.tests ?? env.BENCH_TESTS ?? DEFAULT_TESTS)
        : undefined,
    partnerLimit:
      (values['partner-limit'] ?? env.BENCH_PARTNER_LIMIT) === undefined
        ? undefined
        : intOption('partner-limit', values['partner-limit'] ?? env.BENCH_PARTNER_LIMIT, 600, 60, 60_000),
    records: intOption('records', values.records ?? env.BENCH_RECORDS, 100_000, 0, 200_000),
    maxMinutes: intOption('max-minutes', values['max-minutes'] ?? env.BENCH_MAX_MINUTES, 15, 1, 60),
    pollMs: intOption('poll-ms', values['poll-ms'] ?? env.BENCH_POLL_MS, 20, 5, 200),
    verifySeconds: intOption(
      'verify-seconds',
      values['verify-seconds'] ?? env.BENCH_VERIFY_SECONDS,
      3,
      1,
      10,
    ),
    cpuProfDir: values['cpu-prof'] ?? env.BENCH_CPU_PROF,
    pgUrl: pgUrlOption(),
    redisUrl: env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
  };
}

/** Test files or folders under tests/, comma-separated; anything else is refused (they go to vitest's argv). */
function testPaths(value: string): string[] {
  const paths = value.split(',').map((t) => t.trim());
  for (const p of paths) {
    if (!/^tests\/[\w./-]+$/.test(p) || p.split('/').includes('..'))
      throw new Error(`--tests: ${p} is not a path under tests/`);
  }
  return paths;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** Wall-clock milliseconds with sub-millisecond resolution; every process of the run shares this clock. */
export const wallNow = () => performance.timeOrigin + performance.now();
