import { defineConfig } from 'vitest/config';
import { isStrayConnectionRejection } from './src/process-guard.ts';

/**
 * The fault suite (`npm run faults`, tests/faults/run.ts): real outages of Redis, PostgreSQL, gateway processes
 * and connections, docs/threats.md section G. Apart from `npm test`, whose configuration only takes *.test.ts.
 */
export default defineConfig({
  test: {
    include: ['tests/faults/**/*.fault.ts'],
    // Generous: each case waits on events, and a killed job is redelivered once its lock lapses (~30 s).
    testTimeout: 300_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    onUnhandledError(error): boolean | undefined {
      if (!isStrayConnectionRejection(error)) return undefined;
      console.warn(`tolerated a library's stray rejection (src/process-guard.ts): ${error.message}`);
      return false;
    },
  },
});
