#!/usr/bin/env node
/** Command line of the gateway: serve, make development certificates, run the demo exchange. */
import { resolve } from 'node:path';
import { Command } from 'commander';
import { configPathFrom, loadConfig } from '../config/load.ts';
import { createDevAdministration } from '../crypto/dev-ca.ts';
import { GatewayError } from '../errors.ts';
import { startGateway } from '../gateway.ts';
import { createLogger } from '../log.ts';
import { guardProcess } from '../process-guard.ts';
import { runDemo } from './demo.ts';

const program = new Command()
  .name('mra-gateway')
  .description('Exchange AEO status under Mutual Recognition Arrangements')
  .showHelpAfterError();

program
  .command('serve')
  .description('start the gateway')
  .option('-c, --config <file>', 'configuration file (default: $MRA_CONFIG or ./gateway.yaml)')
  .action(async (opts: { config?: string }) => {
    const config = loadConfig(configPathFrom(opts.config));
    const log = createLogger(config.logLevel);
    guardProcess(log);
    const gateway = await startGateway(config, { log });
    const stop = (signal: string) => {
      gateway.app.log.info({ signal }, 'shutting down');
      gateway.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });

program
  .command('certs')
  .description('make a development CA, signing certificate and TLS certificate for an administration')
  .requiredOption('-a, --admin <adminId>', 'administration, ISO 3166-1 alpha-2 (e.g. PE)')
  .option('-o, --out <dir>', 'output folder (default: certs/<adminId>)')
  .option('--alg <alg>', 'signing algorithm: ES256, EdDSA or PS256', 'ES256')
  .option('--force', 'replace existing files', false)
  .action((opts: { admin: string; out?: string; alg: string; force: boolean }) => {
    if (!/^[A-Z]{2}$/.test(opts.admin))
      throw new GatewayError('BAD_REQUEST', '--admin must be two capital letters');
    if (!['ES256', 'EdDSA', 'PS256'].includes(opts.alg)) {
      throw new GatewayError('BAD_REQUEST', '--alg must be ES256, EdDSA or PS256');
    }
    const dir = resolve(opts.out ?? `certs/${opts.admin}`);
    const paths = createDevAdministration(opts.admin, dir, {
      signingAlg: opts.alg as 'ES256' | 'EdDSA' | 'PS256',
      force: opts.force,
    });
    for (const [what, path] of Object.entries(paths)) console.log(`${what.padEnd(12)} ${path}`);
  });

program
  .command('demo')
  .description('two administrations, two gateways, a signed exchange both ways over mutual TLS')
  .option('-d, --dir <dir>', 'working folder for certificates, configuration and data', 'demo')
  .option('--keep-running', 'leave both gateways running', false)
  .action(async (opts: { dir: string; keepRunning: boolean }) => {
    const { ok } = await runDemo({
      dir: opts.dir,
      keepRunning: opts.keepRunning,
      print: (l) => console.log(l),
    });
    if (!ok) process.exitCode = 1;
  });

program.parseAsync().catch((error: unknown) => {
  const code = error instanceof GatewayError ? error.code : 'INTERNAL';
  console.error(`mra-gateway: ${code}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
});
