/**
 * A test suite running beside the latency runs (--beside-tests): the project's own vitest suite, as a CI machine
 * shared with it would run it, with the databases and Redis prefixes the tests always make for themselves.
 * It is started before the first run, started again whenever it finishes while runs remain (at most
 * MAX_SUITE_RUNS times, never past MAX_MS), and stopped with its workers when the runs are over.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { cleanups, undoNow } from '../lib/cleanup.ts';
import { ROOT } from '../lib/gateway-process.ts';
import { sleep } from './options.ts';

const MAX_SUITE_RUNS = 20;
const MAX_MS = 20 * 60_000;
/** vitest loads and transforms its files before the suite loads the machine. */
export const WARM_UP_MS = 5_000;

export interface SuiteReport {
  /** What ran, as a command line. */
  command: string;
  started: number;
  /** Suite runs that ended by themselves, passing or failing (a failing test does not spoil the benchmark). */
  passed: number;
  failed: number;
  /** The run under way when the benchmark stopped it. */
  stopped: number;
}

export interface TestsBeside {
  stop(): Promise<SuiteReport>;
}

export function startTestsBeside(paths: readonly string[]): TestsBeside {
  const args = [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--reporter=dot', ...paths];
  const report: SuiteReport = {
    command: `vitest run ${paths.join(' ')}`,
    started: 0,
    passed: 0,
    failed: 0,
    stopped: 0,
  };
  const until = Date.now() + MAX_MS;
  let stopping = false;
  let child: ChildProcess | undefined;

  /** Ends the suite under way and its workers: it was started in a process group of its own. */
  const kill = async (): Promise<void> => {
    const c = child;
    if (c?.pid === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    const signal = (s: NodeJS.Signals) => {
      try {
        process.kill(-c.pid!, s);
      } catch {
        // already gone
      }
    };
    signal('SIGTERM');
    const timer = setTimeout(() => signal('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  cleanups.add(kill);

  const loop = (async () => {
    while (!stopping && report.started < MAX_SUITE_RUNS && Date.now() < until) {
      report.started++;
      child = spawn(process.execPath, args, { cwd: ROOT, detached: true, stdio: 'ignore' });
      const code = await new Promise<number | null>((resolve) => child!.once('exit', (c) => resolve(c)));
      if (stopping) report.stopped++;
      else if (code === 0) report.passed++;
      else report.failed++;
      // A suite that fails at once (nothing to run) must not be restarted in a tight loop.
      if (!stopping) await sleep(1_000);
    }
  })();

  return {
    async stop() {
      stopping = true;
      await undoNow(kill);
      await loop;
      return report;
    },
  };
}
