/**
 * The primary of a cluster (`serve` with more than one process): it does no gateway work. It forks the workers
 * (worker.ts), which share the listeners' ports through node:cluster; serves the metrics listener of its own
 * with the sum of the workers' metrics (metrics.ts); starts a worker again in the same slot when one dies after
 * it was up (with a growing delay, and at most RESTARTS.max times in RESTARTS.windowMs, then the gateway stops:
 * a worker that keeps dying is a fault to look at, not to hide); passes SIGTERM and SIGINT on and exits once
 * every worker has.
 *
 * At start every worker must come up: a worker that fails before it listens (a configuration or port error, a
 * database refused) stops the others, its error is printed once, and the primary exits with its code.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { PROCESSES_ENV, SLOT_ENV } from '../config/processes.ts';
import { workerThreadPoolSize } from '../config/thread-pool.ts';
import type { GatewayConfig } from '../config/types.ts';
import { buildMetricsApp } from '../http/routes/metrics.ts';
import { listenFailure } from '../http/server.ts';
import { workerCloseGraceMs } from '../queue/runtime.ts';
import { workerMessage } from './messages.ts';
import { clusterMetrics } from './metrics.ts';

export interface RestartPolicy {
  /** Restarts allowed within windowMs; one more and the gateway stops. */
  max: number;
  windowMs: number;
  /** Delay before the first restart of a window, doubled for each further one, up to maxDelayMs. */
  firstDelayMs: number;
  maxDelayMs: number;
}

export const RESTARTS: RestartPolicy = { max: 5, windowMs: 60_000, firstDelayMs: 500, maxDelayMs: 10_000 };

export interface PrimaryOptions {
  config: GatewayConfig;
  processes: number;
  log: Logger;
  /** Prints a worker's start error (standard error); each distinct line once. */
  print: (line: string) => void;
  restarts?: RestartPolicy;
}

interface Slot {
  worker: Worker | undefined;
  /** The worker now in the slot has said it listens. */
  ready: boolean;
  timer: NodeJS.Timeout | undefined;
}

/** Runs the cluster until it has stopped; resolves with the exit code of the `serve` process. */
export async function runPrimary(options: PrimaryOptions): Promise<number> {
  const { config, processes, log } = options;
  const policy = options.restarts ?? RESTARTS;
  const metrics = clusterMetrics();
  const metricsApp = config.metrics ? await buildMetricsApp(metrics, log, config) : undefined;
  if (metricsApp !== undefined && config.metrics) {
    const { host, port } = config.metrics;
    try {
      await metricsApp.listen({ host, port });
    } catch (error) {
      await metricsApp.close();
      throw listenFailure(error, host, port);
    }
  }

  const slots = new Map<number, Slot>();
  const printed = new Set<string>();
  const restarts: number[] = [];
  let phase: 'starting' | 'running' | 'stopping' = 'starting';
  let exitCode = 0;
  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => {
    finish = resolve;
  });
  let killTimer: NodeJS.Timeout | undefined;

  const live = () => [...slots.values()].filter((s) => s.worker !== undefined);
  const pids = () => live().map((s) => s.worker?.process.pid);

  function fork(slot: number): void {
    const worker = cluster.fork({
      [SLOT_ENV]: String(slot),
      [PROCESSES_ENV]: String(processes),
      UV_THREADPOOL_SIZE: workerThreadPoolSize(processes),
    });
    slots.set(slot, { worker, ready: false, timer: undefined });
    worker.on('message', (raw: unknown) => {
      const message = workerMessage(raw);
      if (message?.mra === 'ready') onReady(slot, worker);
      else if (message?.mra === 'start-failed') {
        if (!printed.has(message.line)) options.print(message.line);
        printed.add(message.line);
        if (phase === 'starting') stop('a gateway process could not start', message.code);
      } else if (message?.mra === 'metrics?') metrics.answer(worker, message);
    });
    worker.on('exit', (code, signal) => onExit(slot, worker, code, signal));
  }

  function onReady(slot: number, worker: Worker): void {
    const s = slots.get(slot);
    if (s?.worker !== worker) return;
    s.ready = true;
    if (phase === 'starting' && [...slots.values()].every((x) => x.ready)) {
      phase = 'running';
      log.info({ processes, pids: pids() }, 'gateway processes listening');
    } else if (phase === 'running')
      log.info({ worker: slot, pid: worker.process.pid }, 'gateway process started again');
  }

  function onExit(slot: number, worker: Worker, code: number | null, signal: string | null): void {
    const s = slots.get(slot);
    if (s === undefined || s.worker !== worker) return;
    const wasReady = s.ready;
    s.worker = undefined;
    s.ready = false;
    if (phase === 'stopping') {
      if (code !== 0) exitCode = exitCode || 1;
      if (live().length === 0) done();
      return;
    }
    const at = { worker: slot, pid: worker.process.pid, code, signal };
    if (phase === 'starting' && !wasReady) {
      // Its error was printed from its message; without one (killed, crashed before it could say) say so here.
      if (printed.size === 0)
        options.print(`mra-gateway: gateway process ${slot} exited at start (${signal ?? `code ${code}`})`);
      stop('a gateway process could not start', code !== null && code !== 0 ? code : 1);
      return;
    }
    const now = Date.now();
    while (restarts.length > 0 && restarts[0]! <= now - policy.windowMs) restarts.shift();
    if (restarts.length >= policy.max) {
      log.fatal(
        { ...at, restarts: restarts.length, windowMs: policy.windowMs },
        'gateway processes keep failing; stopping',
      );
      stop('gateway processes keep failing', 1);
      return;
    }
    const delayMs = Math.min(policy.firstDelayMs * 2 ** restarts.length, policy.maxDelayMs);
    restarts.push(now);
    log.error(
      { ...at, delayMs },
      wasReady
        ? 'gateway process exited unexpectedly; starting another'
        : 'gateway process failed at start again; starting another',
    );
    s.timer = setTimeout(() => {
      s.timer = undefined;
      if (phase !== 'stopping') fork(slot);
    }, delayMs);
  }

  function stop(reason: string, code: number): void {
    if (phase === 'stopping') return;
    phase = 'stopping';
    exitCode = code;
    log.info({ reason, pids: pids() }, 'stopping gateway processes');
    for (const s of slots.values()) {
      clearTimeout(s.timer);
      s.timer = undefined;
      s.worker?.process.kill('SIGTERM');
    }
    if (live().length === 0) {
      done();
      return;
    }
    // Each worker shuts down in order, within its own bounds; one that does not is ended.
    killTimer = setTimeout(() => {
      log.error({ pids: pids() }, 'gateway processes did not stop in time; killed');
      exitCode = exitCode || 1;
      for (const s of live()) s.worker?.process.kill('SIGKILL');
    }, workerCloseGraceMs(config) + 30_000);
  }

  function done(): void {
    clearTimeout(killTimer);
    void (metricsApp?.close() ?? Promise.resolve()).finally(() => finish(exitCode));
  }

  const onSignal = (signal: NodeJS.Signals) => {
    log.info({ signal }, 'shutting down');
    stop(signal, 0);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  for (let slot = 1; slot <= processes; slot += 1) fork(slot);
  const code = await finished;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  return code;
}
