/**
 * `check`: a configuration checked without starting the gateway. The loader validates the schema and reads
 * every secret, key, certificate and anchor; then each key and chain of ours is checked as a partner would,
 * the store and Redis are reached, and, unless `--offline`, every partner: TLS, .well-known, a request token.
 * One line per check; exit 0 all ok, 1 any failed, 2 cannot run.
 */
import type { Command } from 'commander';
import { configPathFrom, loadConfig } from '../config/load.ts';
import type { GatewayConfig } from '../config/types.ts';
import { GatewayError } from '../errors.ts';
import {
  anchorChecks,
  type CheckLine,
  redisCheck,
  signingChecks,
  storeCheck,
  tlsChecks,
} from './ops/check-local.ts';
import { partnerChecks } from './ops/check-partners.ts';
import { EXIT_OK, EXIT_PROBLEM } from './ops/common.ts';

interface CheckOptions {
  config?: string;
  offline: boolean;
  timeout: string;
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description(
      'check a configuration without starting: keys, certificates, store, Redis, and every partner',
    )
    .option('-c, --config <file>', 'configuration file (default: $MRA_CONFIG or ./gateway.yaml)')
    .option('--offline', 'do not reach the partners', false)
    .option('--timeout <ms>', 'bound on each network check (500 to 60000)', '10000')
    .addHelpText(
      'after',
      '\nPrints one line per check: "ok" or "FAIL", what was checked, and why.\n' +
        'Partners are reached as the gateway reaches them: a TLS handshake with our client certificate, GET\n' +
        '<endpoint>/.well-known/mra-gateway, and GET <endpoint>/feed with a fresh request token.\n' +
        'Exit codes: 0 every check ok, 1 a check failed (a configuration that does not load is one), 2 cannot run (usage error).',
    )
    .action(async (opts: CheckOptions) => {
      const timeoutMs = /^\d{3,5}$/.test(opts.timeout) ? Number(opts.timeout) : 0;
      if (timeoutMs < 500 || timeoutMs > 60_000)
        throw new GatewayError('BAD_REQUEST', '--timeout must be 500 to 60000');
      process.exitCode = await runCheck(
        configPathFrom(opts.config),
        { offline: opts.offline, timeoutMs },
        (line) => console.log(line),
      );
    });
}

export function formatLine(line: CheckLine): string {
  return `${line.ok ? 'ok  ' : 'FAIL'}  ${line.what}: ${line.detail}`;
}

export async function runCheck(
  path: string,
  options: { offline: boolean; timeoutMs: number },
  print: (line: string) => void,
): Promise<number> {
  let failed = 0;
  const report = (line: CheckLine) => {
    if (!line.ok) failed += 1;
    print(formatLine(line));
  };
  let config: GatewayConfig;
  try {
    config = loadConfig(path);
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    report({ ok: false, what: `configuration ${path}`, detail: error.message });
    return EXIT_PROBLEM;
  }
  report({
    ok: true,
    what: `configuration ${path}`,
    detail: `schema valid, files and secrets readable; home ${config.home.adminId}, ${config.partners.length} partner(s), ${config.apiClients.length} API client(s)`,
  });
  const now = new Date();
  for (const line of [
    ...signingChecks(config, now),
    ...tlsChecks(config, now),
    ...anchorChecks(config, now),
  ]) {
    report(line);
  }
  report(await storeCheck(config));
  report(await redisCheck(config, options.timeoutMs));
  if (options.offline) print('skip  partners: --offline');
  else {
    for (const partner of config.partners) {
      for (const line of await partnerChecks(config, partner, options.timeoutMs)) report(line);
    }
  }
  print(failed === 0 ? 'all checks ok' : `${failed} check(s) failed`);
  return failed === 0 ? EXIT_OK : EXIT_PROBLEM;
}
