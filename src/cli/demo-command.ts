/**
 * `demo`: a run of the demo exchange (demo.ts) with one Ctrl-C handler for the whole of it, so no stop leaves
 * a gateway's data folder locked or a run's Redis keys behind.
 */
import { type DemoOptions, type DemoRun, runDemo } from './demo.ts';

/** Exit code of a demo stopped by Ctrl-C (or SIGTERM) before its exchange was over: 128 + SIGINT. */
export const EXIT_INTERRUPTED = 130;

/**
 * The demo as a command, with one Ctrl-C (SIGINT or SIGTERM) handler for the whole of it. During the run it
 * stops both gateways (their data folders unlocked and removed, the run's Redis keys removed) and exits 130;
 * with --keep-running, once the sandbox is up, it does the same and exits 0. A second Ctrl-C exits at once.
 * Resolves to the exit code: 0 the exchange worked, 1 a step failed.
 */
export async function runDemoCommand(options: DemoOptions): Promise<number> {
  let stopRun: (() => Promise<void>) | undefined;
  let interrupted: Promise<number> | undefined;
  let endSandbox: (() => void) | undefined;
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(EXIT_INTERRUPTED);
    signalled = true;
    if (endSandbox !== undefined) {
      options.print('stopping the demo gateways…');
      endSandbox();
      return;
    }
    options.print(`${signal}: stopping the demo gateways…`);
    interrupted = (stopRun?.() ?? Promise.resolve()).then(
      () => {
        options.print('demo interrupted: both gateways stopped');
        // The run may still be waiting on a bounded step; the gateways are gone, so nothing is left to do.
        process.exit(EXIT_INTERRUPTED);
      },
      () => process.exit(EXIT_INTERRUPTED),
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    let run: DemoRun;
    try {
      run = await runDemo({ ...options, stoppable: (stop) => (stopRun = stop) });
    } catch (error) {
      if (interrupted !== undefined) return await interrupted;
      throw error;
    }
    if (interrupted !== undefined) return await interrupted;
    if (!options.keepRunning) return run.ok ? 0 : 1;
    await new Promise<void>((resolveStop) => {
      endSandbox = resolveStop;
    });
    await run.stop();
    options.print('demo stopped');
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
