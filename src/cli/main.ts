#!/usr/bin/env node
/** Command line of the gateway: serve, make development certificates, run the demo exchange. */
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { configPathFrom, loadConfig } from '../config/load.ts';
import { createDevAdministration, DEFAULT_TLS_HOSTS } from '../crypto/dev-ca.ts';
import { writeDevCrl } from '../crypto/dev-crl.ts';
import { GatewayError } from '../errors.ts';
import { startGateway } from '../gateway.ts';
import { createLogger } from '../log.ts';
import { guardProcess } from '../process-guard.ts';
import { auditVerifyCommand, retentionRunCommand } from './audit.ts';
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
  .description(
    'make a development PKI for an administration: root CA, issuing CA, signing and TLS certificates',
  )
  .requiredOption('-a, --admin <adminId>', 'administration, ISO 3166-1 alpha-2 (e.g. PE)')
  .option('-o, --out <dir>', 'output folder (default: certs/<adminId>)')
  .option('--alg <alg>', 'signing algorithm: ES256, EdDSA or PS256', 'ES256')
  .addOption(
    new Option('--host <host>', 'DNS name or IP address of the TLS certificate, repeatable')
      .argParser((value: string, previous: string[]) => [...previous, value])
      .default([], DEFAULT_TLS_HOSTS.join(', ')),
  )
  .option('--force', 'replace existing files', false)
  .action((opts: { admin: string; out?: string; alg: string; host: string[]; force: boolean }) => {
    if (!/^[A-Z]{2}$/.test(opts.admin))
      throw new GatewayError('BAD_REQUEST', '--admin must be two capital letters');
    if (!['ES256', 'EdDSA', 'PS256'].includes(opts.alg)) {
      throw new GatewayError('BAD_REQUEST', '--alg must be ES256, EdDSA or PS256');
    }
    const dir = resolve(opts.out ?? `certs/${opts.admin}`);
    const paths = createDevAdministration(opts.admin, dir, {
      signingAlg: opts.alg as 'ES256' | 'EdDSA' | 'PS256',
      ...(opts.host.length > 0 ? { hosts: opts.host } : {}),
      force: opts.force,
    });
    const lines: [string, string][] = [
      ['root CA (the trust anchor to give partners)', paths.rootCert],
      ['root CA key (keep offline)', paths.rootKey],
      ['issuing CA (give partners too, for intermediates)', paths.issuingCert],
      ['issuing CA key', paths.issuingKey],
      ['signing chain (home.signing[].certificateChain)', paths.signingCert],
      ['signing key', paths.signingKey],
      ['TLS chain (server.tls.certificate)', paths.tlsCert],
      ['TLS key', paths.tlsKey],
    ];
    for (const [what, path] of lines) console.log(`${what.padEnd(52)} ${path}`);
  });

program
  .command('crl')
  .description('make a revocation list (CRL) of a development CA, for partners to configure')
  .requiredOption('--ca <pem>', 'certificate of the CA that signs the list (e.g. certs/PE/issuing-ca.pem)')
  .requiredOption('--ca-key <file>', 'private key of that CA (e.g. certs/PE/issuing-ca.key)')
  .requiredOption('-o, --out <file>', 'where to write the list (PEM)')
  .addOption(
    new Option('--revoke <pem>', 'certificate to revoke, issued by that CA, repeatable')
      .argParser((value: string, previous: string[]) => [...previous, value])
      .default([]),
  )
  .option('--next-update-days <n>', 'days until the next list is due (1 to 366)', '7')
  .action((opts: { ca: string; caKey: string; out: string; revoke: string[]; nextUpdateDays: string }) => {
    const days = /^\d{1,3}$/.test(opts.nextUpdateDays) ? Number(opts.nextUpdateDays) : Number.NaN;
    const { revoked, nextUpdate } = writeDevCrl({
      caCertificate: resolve(opts.ca),
      caKey: resolve(opts.caKey),
      revoke: opts.revoke.map((p) => resolve(p)),
      nextUpdateDays: days,
      out: resolve(opts.out),
    });
    console.log(`${resolve(opts.out)}: ${revoked.length} revoked, next update ${nextUpdate.toISOString()}`);
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

const audit = program.command('audit').description('the tamper-evident audit trail');
audit
  .command('verify')
  .description('verify the audit chain and the evidence it anchors; exit 0 intact, 1 broken, 2 cannot run')
  .option('-c, --config <file>', 'configuration file (default: $MRA_CONFIG or ./gateway.yaml)')
  .action(async (opts: { config?: string }) => {
    process.exitCode = await auditVerifyCommand(opts);
  });

program
  .command('retention')
  .description('retention of personal data of withdrawn operators')
  .command('run')
  .description('remove the personal data of operators withdrawn for longer than the configured period')
  .option('-c, --config <file>', 'configuration file (default: $MRA_CONFIG or ./gateway.yaml)')
  .action(async (opts: { config?: string }) => {
    process.exitCode = await retentionRunCommand(opts);
  });

program.parseAsync().catch((error: unknown) => {
  const code = error instanceof GatewayError ? error.code : 'INTERNAL';
  console.error(`mra-gateway: ${code}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
});
