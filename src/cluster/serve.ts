/**
 * `serve`: the gateway in this process (one process, the default), or a cluster of processes sharing the
 * listeners' ports (`server.processes`, `serve --processes`): this process is then the primary (primary.ts), and
 * the workers it forks run this same command line again (worker.ts).
 */
import cluster from 'node:cluster';
import { configPathFrom, loadConfig } from '../config/load.ts';
import { processesOption, resolveProcesses } from '../config/processes.ts';
import { startGateway } from '../gateway.ts';
import { createLogger } from '../log.ts';
import { guardProcess } from '../process-guard.ts';
import { runPrimary } from './primary.ts';
import { runWorker } from './worker.ts';

export interface ServeOptions {
  config?: string;
  pretty?: boolean;
  processes?: string;
  /** The exit code and the printed line of an error, as the command line ends on it. */
  describeFailure: (error: unknown) => { code: number; line?: string };
}

export async function serve(options: ServeOptions): Promise<void> {
  const configPath = configPathFrom(options.config);
  const pretty = options.pretty === true;
  if (cluster.isWorker) {
    await runWorker({ configPath, pretty, describeFailure: options.describeFailure });
    return;
  }
  const config = loadConfig(configPath);
  const processes =
    options.processes === undefined
      ? config.server.processes
      : resolveProcesses(processesOption(options.processes), config.storage.kind, '--processes');
  const log = createLogger(config.logLevel, undefined, pretty || config.logPretty === true);
  guardProcess(log);
  if (processes > 1) {
    const code = await runPrimary({
      config,
      processes,
      log: log.child({ cluster: 'primary' }),
      print: (line) => console.error(line),
    });
    process.exit(code);
  }
  // `--processes 1` over a configuration of several: the limits are this one process's in full.
  const gateway = await startGateway({ ...config, server: { ...config.server, processes } }, { log });
  const stop = (signal: string) => {
    gateway.app.log.info({ signal }, 'shutting down');
    gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
