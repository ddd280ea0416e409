/** Options of the inbound benchmark (argument, else environment variable); see bench/inbound.ts. */
import { parseArgs } from 'node:util';
import { intOption, pgUrlOption } from '../lib/options.ts';

export const BATCH_SIZE = 500;
export const MAX_POSTED_BATCHES = 20;
/** No new batch is posted after this much of the timed phase. */
export const TIMED_PHASE_LIMIT_MS = 60_000;

export type StoreKind = 'postgres' | 'embedded';

export interface Options {
  batches: number;
  concurrency: number;
  stores: StoreKind[];
  verifySeconds: number;
  mtls: boolean;
  cpuProfDir: string | undefined;
  pgUrl: string;
}

export function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      batches: { type: 'string' },
      concurrency: { type: 'string' },
      store: { type: 'string' },
      'verify-seconds': { type: 'string' },
      mtls: { type: 'boolean' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(
      'npm run bench -- [--batches 1..19] [--concurrency 1..8] [--store postgres|embedded|both] ' +
        '[--verify-seconds 1..10] [--mtls] [--cpu-prof DIR]   (env: BENCH_PG_URL, BENCH_*)',
    );
    process.exit(0);
  }
  const env = process.env;
  const store = values.store ?? env.BENCH_STORE ?? 'postgres';
  if (!['postgres', 'embedded', 'both'].includes(store))
    throw new Error('store must be postgres, embedded or both');
  const maxTimed = MAX_POSTED_BATCHES - 1;
  return {
    batches: intOption('batches', values.batches ?? env.BENCH_BATCHES, maxTimed, 1, maxTimed),
    concurrency: intOption('concurrency', values.concurrency ?? env.BENCH_CONCURRENCY, 3, 1, 8),
    stores: store === 'both' ? ['postgres', 'embedded'] : [store as StoreKind],
    verifySeconds: intOption(
      'verify-seconds',
      values['verify-seconds'] ?? env.BENCH_VERIFY_SECONDS,
      3,
      1,
      10,
    ),
    mtls: values.mtls ?? env.BENCH_MTLS === '1',
    cpuProfDir: values['cpu-prof'] ?? env.BENCH_CPU_PROF,
    pgUrl: pgUrlOption(),
  };
}
