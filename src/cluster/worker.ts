/**
 * One process of a cluster: the gateway as `serve` runs it alone, with the configuration's limits shared out
 * (limits.ts), the once-per-gateway timers only in slot 1, metrics summed by the primary, and every log line
 * carrying its slot (`worker`). A start failure is told to the primary, which prints it once for all
 * workers, instead of being printed here. An orderly shutdown on SIGTERM or SIGINT, as alone; a primary that is
 * gone (its IPC channel closed) is taken as the same.
 */
import type { Logger } from 'pino';
import { loadConfig } from '../config/load.ts';
import { workerSlot } from '../config/processes.ts';
import { type Gateway, startGateway } from '../gateway.ts';
import { createLogger } from '../log.ts';
import { guardProcess } from '../process-guard.ts';
import { workerConfig } from './limits.ts';
import { WorkerMetrics } from './metrics.ts';

export interface WorkerOptions {
  configPath: string;
  pretty: boolean;
  /** The exit code and the printed line of a start error, as the command line gives them alone. */
  describeFailure: (error: unknown) => { code: number; line?: string };
}

/** The slot that runs the timers a gateway needs once: partner sync, summaries, retention. */
export const TIMER_SLOT = 1;

export async function runWorker(options: WorkerOptions): Promise<void> {
  let log: Logger | undefined;
  let gateway: Gateway | undefined;
  let signalled: string | undefined;
  let stopping = false;
  // Installed before the start: a signal during it (the primary stopping) closes the gateway once it is up.
  const stop = (signal: string) => {
    signalled ??= signal;
    if (gateway === undefined || stopping) return;
    stopping = true;
    log?.info({ signal }, 'shutting down');
    gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('disconnect', () => stop('primary gone'));
  try {
    const { slot, processes } = workerSlot();
    const config = loadConfig(options.configPath);
    log = createLogger(config.logLevel, undefined, options.pretty || config.logPretty === true).child({
      worker: slot,
    });
    guardProcess(log);
    gateway = await startGateway(workerConfig(config, processes), {
      log,
      onceTimers: slot === TIMER_SLOT,
      metrics: new WorkerMetrics(),
    });
  } catch (error) {
    const { code, line } = options.describeFailure(error);
    await tell({ mra: 'start-failed', code, line: line ?? String(error) });
    process.exit(code);
  }
  if (signalled !== undefined) {
    stop(signalled);
    return;
  }
  await tell({ mra: 'ready' });
}

function tell(message: object): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) return resolve();
    process.send(message, undefined, undefined, () => resolve());
  });
}
