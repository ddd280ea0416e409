/**
 * `healthcheck [--config file]`: asks the gateway's own internal API listener for /health/live, where the
 * configuration puts it (api.host, api.port, http or https), for a container's HEALTHCHECK. Cheap: the
 * configuration is read, nothing is opened but one connection. Exit codes: 0 alive, 1 not (or the
 * configuration cannot be read). The Dockerfile runs this file directly (`node src/cli/healthcheck.ts`),
 * which skips loading the rest of the command line: well within the health check's timeout.
 */
import type { Command } from 'commander';
import { Agent, request } from 'undici';
import { configPathFrom, loadConfig } from '../config/load.ts';
import type { ApiSettings } from '../config/types.ts';

/** Within the 5 s a container runtime gives a health check (Dockerfile HEALTHCHECK --timeout). */
const TIMEOUT_MS = 4_000;

/** The URL of /health/live on the API listener: a wildcard bind address is reached on loopback. */
export function liveUrl(api: Pick<ApiSettings, 'host' | 'port' | 'tls'>): string {
  const host = api.host === '0.0.0.0' || api.host === '' ? '127.0.0.1' : api.host === '::' ? '::1' : api.host;
  const where = host.includes(':') ? `[${host}]` : host;
  return `${api.tls === undefined ? 'http' : 'https'}://${where}:${api.port}/health/live`;
}

/** Whether /health/live answers 2xx in time. */
export async function probeLive(url: string): Promise<boolean> {
  // The gateway's own listener, on this machine: its certificate names the public host, not this address,
  // and nothing secret is sent, so it is not verified.
  const dispatcher = new Agent({
    connect: { rejectUnauthorized: false, timeout: TIMEOUT_MS },
    headersTimeout: TIMEOUT_MS,
    bodyTimeout: TIMEOUT_MS,
  });
  try {
    const res = await request(url, { method: 'GET', dispatcher, signal: AbortSignal.timeout(TIMEOUT_MS) });
    await res.body.dump();
    return res.statusCode >= 200 && res.statusCode < 300;
  } catch {
    return false;
  } finally {
    await dispatcher.close();
  }
}

/** The exit code of a health check with the configuration at `configArgument` (or $MRA_CONFIG). */
export async function runHealthcheck(configArgument: string | undefined): Promise<number> {
  let url: string;
  try {
    url = liveUrl(loadConfig(configPathFrom(configArgument)).api);
  } catch (error) {
    console.error(`healthcheck: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  const alive = await probeLive(url);
  if (!alive) console.error(`healthcheck: ${url} did not answer 2xx`);
  return alive ? 0 : 1;
}

export function registerHealthcheck(program: Command): void {
  program
    .command('healthcheck')
    .description("ask the gateway's API listener for /health/live (exit 0 alive, 1 not), for a container")
    .option('-c, --config <file>', 'configuration file (default: $MRA_CONFIG or ./gateway.yaml)')
    .action(async (opts: { config?: string }) => {
      process.exitCode = await runHealthcheck(opts.config);
    });
}

// `node src/cli/healthcheck.ts [--config file]`: the same check without the rest of the command line.
if (import.meta.main) {
  const at = process.argv.findIndex((a) => a === '--config' || a === '-c');
  process.exitCode = await runHealthcheck(at === -1 ? undefined : process.argv[at + 1]);
}
