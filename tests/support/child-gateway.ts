/**
 * A gateway run as it is deployed, in a process of its own (`src/cli/main.ts serve`), for the crash tests
 * (docs/threats.md 58, 59, 66): the test can SIGSTOP and SIGKILL it at a chosen moment and start it again on the
 * same PostgreSQL database, queue prefix and ports. Every wait is bounded.
 */
import { readFileSync } from 'node:fs';
import { type GatewayProcess, spawnGateway, waitReady } from '../../bench/lib/gateway-process.ts';
import { httpRequest } from './gateway.ts';

export interface ChildGateway {
  /** Partner listener: http://127.0.0.1:<port> */
  url: string;
  /** Internal API listener. */
  apiUrl: string;
  /** The running process's pid; throws when none runs. */
  pid(): number;
  /** Starts the process (again) and waits until it answers on both listeners. */
  start(): Promise<void>;
  /** SIGSTOP: the process holds its sockets and does nothing, so whatever it has not written stays unwritten. */
  freeze(): void;
  /** SIGKILL: no shutdown code runs; resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (SIGKILL after 10 s); resolves once the process is gone. */
  stop(): Promise<void>;
  /** Resident set size of the running process, in bytes, from /proc. */
  rss(): number;
}

export interface ChildOptions {
  configPath: string;
  databaseUrl: string;
  serverPort: number;
  apiPort: number;
  /** Added to the process's environment, e.g. REDIS_URL for a private redis-server. */
  env?: Record<string, string>;
}

export function childGateway(options: ChildOptions): ChildGateway {
  let running: GatewayProcess | undefined;
  const url = `http://127.0.0.1:${options.serverPort}`;
  const apiUrl = `http://127.0.0.1:${options.apiPort}`;
  const live = (base: string) => async () =>
    (await httpRequest(`${base}/health/live`, { method: 'GET' })).status === 200;
  const current = (): GatewayProcess => {
    if (running === undefined) throw new Error('the gateway process is not running');
    return running;
  };
  const gone = (p: GatewayProcess) =>
    new Promise<void>((resolve) => {
      if (p.child.exitCode !== null || p.child.signalCode !== null) resolve();
      else p.child.once('exit', () => resolve());
    });
  return {
    url,
    apiUrl,
    pid: () => current().child.pid!,
    async start() {
      if (running !== undefined) throw new Error('the gateway process runs already');
      running = spawnGateway(options.configPath, {
        databaseUrl: options.databaseUrl,
        env: { LOG_LEVEL: 'error', ...options.env },
      });
      // Migrations and the read model come first: generous on a loaded machine.
      await waitReady(running.child, 'gateway', live(apiUrl), 120_000);
      await waitReady(running.child, 'gateway', live(url), 120_000);
      // The listeners open before the lookup read model is loaded: readiness names it while it loads.
      const loaded = async () =>
        !('readModel' in JSON.parse((await httpRequest(`${apiUrl}/health/ready`, { method: 'GET' })).text));
      await waitReady(running.child, 'gateway', loaded, 120_000);
    },
    freeze: () => void current().child.kill('SIGSTOP'),
    async kill() {
      const p = running;
      running = undefined;
      if (p === undefined) return;
      p.child.kill('SIGKILL');
      await gone(p);
    },
    async stop() {
      const p = running;
      running = undefined;
      if (p === undefined) return;
      p.child.kill('SIGCONT');
      await p.stop();
    },
    rss() {
      const status = readFileSync(`/proc/${current().child.pid}/status`, 'utf8');
      const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
      if (kb === undefined) throw new Error('no VmRSS for the gateway process');
      return Number(kb) * 1024;
    },
  };
}
