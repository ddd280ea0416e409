/** The lookup benchmark's options (bench/lookup.ts has their list). */
import { parseArgs } from 'node:util';
import { intOption, pgUrlOption } from '../lib/options.ts';

export function readOptions() {
  const { values } = parseArgs({
    options: {
      operators: { type: 'string' },
      seconds: { type: 'string' },
      batches: { type: 'string' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(
      'npm run bench:lookup -- [--operators N] [--seconds S] [--batches B] [--cpu-prof DIR]   (env: BENCH_PG_URL)',
    );
    process.exit(0);
  }
  const env = process.env;
  return {
    operators: intOption('operators', values.operators ?? env.BENCH_OPERATORS, 1_000_000, 1_000, 2_000_000),
    seconds: intOption('seconds', values.seconds ?? env.BENCH_SECONDS, 10, 2, 60),
    batches: intOption('batches', values.batches ?? env.BENCH_BATCHES, 100, 10, 500),
    cpuProfDir: values['cpu-prof'] ?? env.BENCH_CPU_PROF,
    pgUrl: pgUrlOption(),
  };
}

export type LookupOptions = ReturnType<typeof readOptions>;
