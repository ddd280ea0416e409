/** A gateway as it is deployed: its own process (`src/cli/main.ts serve`), on loopback. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePorts } from '../../tests/support/free-ports.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const READY_TIMEOUT_MS = 30_000;

export interface GatewayProcess {
  child: ChildProcess;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** PostgreSQL database of the gateway; the embedded store when absent. */
  databaseUrl?: string | undefined;
  /** Write a V8 CPU profile into this folder when the process ends. */
  cpuProfDir?: string | undefined;
  /** Added to the environment (LOG_LEVEL is `warn` unless given). */
  env?: Record<string, string>;
  /** 'pipe' to read the gateway's log lines from `child.stdout`; inherited by default. */
  stdout?: 'inherit' | 'pipe';
  /** Extra node options, e.g. `--report-on-signal` to read the heap from a diagnostic report. */
  nodeArgs?: readonly string[];
}

export function spawnGateway(configPath: string, options: SpawnOptions = {}): GatewayProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', ...options.env };
  delete env.DATABASE_URL;
  if (options.databaseUrl !== undefined) env.DATABASE_URL = options.databaseUrl;
  const profile =
    options.cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir];
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), ...profile, 'src/cli/main.ts', 'serve', '--config', configPath],
    {
      cwd: ROOT,
      env,
      stdio: ['ignore', options.stdout ?? 'inherit', 'inherit'],
    },
  );
  return stoppable(child);
}

/**
 * SIGTERM, then SIGKILL after 30 s (the stop grace docs/running.md suggests: a gateway with a million operators
 * writes its read model's snapshot first, a few seconds on a loaded machine); resolves once the process exited.
 */
const STOP_GRACE_MS = 30_000;

export function stoppable(child: ChildProcess): GatewayProcess {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `probe` every 100 ms until it answers true; fails when the process exits or after 30 s (or `timeoutMs`). */
export async function waitReady(
  child: ChildProcess,
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = READY_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the ${what} exited with code ${child.exitCode}`);
    try {
      if (await probe()) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the ${what} did not start in time`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A port to name in a configuration before its process listens on it: below the system's ephemeral range, as
 * the tests choose theirs (tests/support/free-ports.ts), so that no outgoing connection of the run can take it
 * in between.
 */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}
