/**
 * The program of the command line, built without parsing anything (main.ts parses the process's arguments):
 * serve, make development certificates, run the demo exchange, and the operators' commands. Usage errors (an
 * unknown command or option, a missing argument) of every command exit 2, `--help` and `--version` 0
 * (usageExitCode); the commands keep 1 for "what was checked is bad".
 */
import { resolve } from 'node:path';
import { Command, CommanderError, Option, type OutputConfiguration } from 'commander';
import { serve } from '../cluster/serve.ts';
import { createDevAdministration, DEFAULT_TLS_HOSTS } from '../crypto/dev-ca.ts';
import { writeDevCrl } from '../crypto/dev-crl.ts';
import { GatewayError } from '../errors.ts';
import { auditVerifyCommand, retentionRunCommand } from './audit.ts';
import { registerCheck } from './check.ts';
import { registerConformance } from './conformance.ts';
import { registerCsr } from './csr.ts';
import { registerDeadLetters } from './dead-letters.ts';
import { runDemoCommand } from './demo-command.ts';
import { registerEvidenceCommands } from './evidence.ts';
import { registerHealthcheck } from './healthcheck.ts';
import { registerKeys } from './keys.ts';
import { registerOpenApiCommand } from './openapi.ts';
import { EXIT_CANNOT_RUN, EXIT_OK } from './ops/common.ts';
import { registerReport } from './report-cli.ts';
import { registerTokens } from './tokens.ts';
import { registerVersion } from './version.ts';

/** `output` replaces where commander writes help and usage errors (tests); set before any command inherits it. */
export function buildProgram(output?: OutputConfiguration): Command {
  const program = new Command()
    .name('mra-gateway')
    .description('Exchange AEO status under Mutual Recognition Arrangements')
    .showHelpAfterError()
    // Before any command is added: each inherits it, so commander throws instead of exiting with its own 1.
    .exitOverride();
  if (output !== undefined) program.configureOutput(output);

  program
    .command('serve')
    .description('start the gateway')
    .option('-c, --config <file>', 'configuration file (default: $MRA_CONFIG or ./gateway.yaml)')
    .option('--pretty', 'readable log lines instead of JSON (also LOG_FORMAT=pretty or log.pretty)')
    .option(
      '--processes <n>',
      'gateway processes sharing the listeners: a number, or auto for one per core (default: server.processes, 1)',
    )
    .addHelpText(
      'after',
      '\nRuns until SIGTERM or SIGINT (then exit 0). Exit codes: 2 cannot start, with one line "mra-gateway: CODE: message" on standard error (CONFIG_INVALID, LISTEN_FAILED, STORE_REFUSED, STORE_LOCKED, QUEUE_EVICTION_POLICY) or a usage error.',
    )
    .action(async (opts: { config?: string; pretty?: boolean; processes?: string }) => {
      await serve({ ...opts, describeFailure: failureExit });
    });

  program
    .command('certs')
    .alias('pki')
    .description(
      'make a two-level development PKI for an administration: root CA, issuing CA, and under it signing and TLS certificates for the --host names',
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
    .addHelpText(
      'after',
      '\nAn existing file stops it, nothing written, unless --force; keys are written 0600.\nExit codes: 0 written, 2 cannot run (usage error, bad --admin, --alg or --host, files exist without --force).',
    )
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
      const hosts = opts.host.length > 0 ? opts.host : DEFAULT_TLS_HOSTS;
      console.log(`${'TLS host names (subjectAltName; more with --host)'.padEnd(52)} ${hosts.join(', ')}`);
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
    .addHelpText(
      'after',
      '\nExit codes: 0 written, 2 cannot run (usage error, unreadable CA or key, a --revoke certificate not issued by that CA).',
    )
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
    .addHelpText(
      'after',
      "\nRedis carries pushes and webhooks (REDIS_URL, default redis://127.0.0.1:6379); without it the partners pull each other's feed and no webhook arrives.\nCtrl-C stops both gateways cleanly.\nExit codes: 0 the exchange worked (or the sandbox was stopped), 1 a step failed, 2 cannot run, 130 stopped by Ctrl-C or SIGTERM before the end.",
    )
    .action(async (opts: { dir: string; keepRunning: boolean }) => {
      process.exitCode = await runDemoCommand({ ...opts, print: (l) => console.log(l) });
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
    .addHelpText(
      'after',
      '\nPrints what it removed.\nExit codes: 0 done (nothing to remove is not an error), 2 cannot run (usage error, configuration, store unavailable or STORE_LOCKED).',
    )
    .action(async (opts: { config?: string }) => {
      process.exitCode = await retentionRunCommand(opts);
    });

  registerEvidenceCommands(program);
  registerVersion(program);
  registerOpenApiCommand(program);
  registerCheck(program);
  registerTokens(program);
  registerCsr(program);
  registerKeys(program);
  registerDeadLetters(program);
  registerReport(program);
  registerConformance(program);
  registerHealthcheck(program);
  return program;
}

/**
 * The exit code of a commander error: 0 for help and version, the code given by a command's own
 * `command.error(…, { exitCode })`, and 2 (cannot run) for every usage error.
 */
export function usageExitCode(error: CommanderError): number {
  if (error.exitCode === 0) return EXIT_OK;
  if (error.code === 'commander.error') return error.exitCode;
  return EXIT_CANNOT_RUN;
}

/**
 * How the command line ends on an error a command threw or commander raised: its exit code, and the line for
 * standard error (none where commander has already printed the usage error, the help or the version).
 */
export function failureExit(error: unknown): { code: number; line?: string } {
  if (error instanceof CommanderError) return { code: usageExitCode(error) };
  const code = error instanceof GatewayError ? error.code : 'INTERNAL';
  return {
    code: EXIT_CANNOT_RUN,
    line: `mra-gateway: ${code}: ${error instanceof Error ? error.message : String(error)}`,
  };
}
