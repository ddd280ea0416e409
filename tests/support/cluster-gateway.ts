/**
 * A gateway run as a cluster (`src/cli/main.ts serve --processes N`), in a process of its own: its JSON log
 * lines collected (every line carries the pid, and a worker's its slot as `worker`), its standard error kept,
 * its workers found from /proc, and requests sent on connections of their own so that the primary hands
 * each to the next worker. Every wait is bounded.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Client } from 'undici';
import { ROOT } from '../../bench/lib/gateway-process.ts';
import { waitFor } from './delivery.ts';

export type LogLine = Record<string, unknown>;

export interface ClusterGateway {
  child: ChildProcess;
  readonly logs: LogLine[];
  stderr(): string;
  /** The pids of the primary's live children (its workers). */
  workerPids(): number[];
  waitLog(what: string, match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** The exit code and signal, once the primary has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM to the primary (SIGKILL to it and its workers after `timeoutMs`); its exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

export interface ClusterOptions {
  configPath: string;
  databaseUrl?: string;
  processes: number | 'auto';
  env?: Record<string, string>;
}

export function spawnCluster(options: ClusterOptions): ClusterGateway {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info', ...options.env };
  delete env.DATABASE_URL;
  delete env.LOG_FORMAT;
  if (options.databaseUrl !== undefined) env.DATABASE_URL = options.databaseUrl;
  const args = [
    'src/cli/main.ts',
    'serve',
    '--config',
    options.configPath,
    '--processes',
    String(options.processes),
  ];
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: LogLine[] = [];
  let rest = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        // not a log line
      }
    }
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const workerPids = (): number[] => {
    try {
      const text = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim();
      return text === '' ? [] : text.split(/\s+/).map(Number);
    } catch {
      return [];
    }
  };
  return {
    child,
    logs,
    stderr: () => stderr,
    workerPids,
    waitLog: (what, match, timeoutMs = 120_000) =>
      waitFor(
        what,
        async () => {
          if (child.exitCode !== null) throw new Error(`the gateway exited (${child.exitCode}): ${stderr}`);
          return logs.find(match);
        },
        timeoutMs,
        50,
      ),
    exited,
    async stop(timeoutMs = 60_000) {
      const workers = workerPids();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => {
        for (const pid of workers) kill(pid);
        child.kill('SIGKILL');
      }, timeoutMs);
      const { code } = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** Whether a process runs (or is a zombie not reaped yet: counted as gone). */
export function running(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Runs `work` on one connection of its own to `origin`, after a health probe on it with request id `probeId`:
 * the worker that answers the probe (its pid is in the probe's log line) answers `work` too.
 */
export async function onOwnConnection<T>(
  origin: string,
  probeId: string,
  work: (client: Client) => Promise<T>,
): Promise<T> {
  const client = new Client(origin, { pipelining: 1 });
  try {
    const probe = await client.request({
      method: 'GET',
      path: '/health/live',
      headers: { 'x-request-id': probeId },
    });
    await probe.body.text();
    if (probe.statusCode !== 200) throw new Error(`health probe answered ${probe.statusCode}`);
    return await work(client);
  } finally {
    await client.close();
  }
}

/** The pid that logged request `reqId`. */
export function pidOfRequest(logs: readonly LogLine[], reqId: string): number | undefined {
  const line = logs.find((l) => l.reqId === reqId && typeof l.pid === 'number');
  return line?.pid as number | undefined;
}
