/**
 * `csr`: a new private key and a PKCS#10 certification request for the administration's own CA, with the real
 * host names of the gateway in subjectAltName (TLS) or for record signing. The development PKI is `certs`.
 */
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { toPem } from '../crypto/cert-builder.ts';
import { buildCsr, type CsrPurpose, newKeyFor } from '../crypto/csr.ts';
import { ALLOWED_ALGORITHMS, type SigningAlgorithm } from '../crypto/types.ts';
import { GatewayError } from '../errors.ts';
import { EXIT_OK } from './ops/common.ts';
import { hostNames, refuseExisting, writeNew } from './ops/files.ts';

export interface CsrFiles {
  keyPath: string;
  csrPath: string;
  subject: string;
  altNames: string[];
}

export interface CsrInput {
  admin: string;
  purpose: CsrPurpose;
  hosts: readonly string[];
  alg: SigningAlgorithm;
  organization?: string | undefined;
  keyPath: string;
  csrPath: string;
  force: boolean;
}

/** Makes the key and the request and writes both (the key 0600); nothing is written when an input is wrong. */
export function writeCsr(input: CsrInput): CsrFiles {
  if (!/^[A-Z]{2}$/.test(input.admin))
    throw new GatewayError('BAD_REQUEST', '--admin must be two capital letters');
  if (!(ALLOWED_ALGORITHMS as readonly string[]).includes(input.alg)) {
    throw new GatewayError('BAD_REQUEST', `--alg must be one of ${ALLOWED_ALGORITHMS.join(', ')}`);
  }
  if (input.purpose === 'tls' && input.alg === 'EdDSA') {
    throw new GatewayError(
      'BAD_REQUEST',
      'a TLS key is ES256 (P-256) or PS256 (RSA); Ed25519 is for signing',
    );
  }
  const names = hostNames(input.hosts);
  const all = [...names.dns, ...names.ips];
  if (input.purpose === 'tls' && all.length === 0) {
    throw new GatewayError(
      'BAD_REQUEST',
      'a TLS request needs at least one --host (the names partners connect to)',
    );
  }
  refuseExisting([input.keyPath, input.csrPath], input.force);
  const organization = input.organization ?? `${input.admin} customs administration`;
  const commonName = input.purpose === 'tls' ? all[0]! : `${input.admin} MRA record signing`;
  const key = newKeyFor(input.alg);
  const der = buildCsr({
    key,
    subject: { commonName, organization, country: input.admin },
    purpose: input.purpose,
    dns: names.dns,
    ips: names.ips,
  });
  writeNew(input.keyPath, key.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600, input.force);
  writeNew(input.csrPath, toPem(der, 'CERTIFICATE REQUEST'), 0o644, input.force);
  return {
    keyPath: input.keyPath,
    csrPath: input.csrPath,
    subject: `C=${input.admin}, O=${organization}, CN=${commonName}`,
    altNames: [...names.dns.map((d) => `DNS:${d}`), ...names.ips.map((ip) => `IP:${ip}`)],
  };
}

export function registerCsr(program: Command): void {
  program
    .command('csr')
    .description(
      "make a private key and a PKCS#10 certificate request for your administration's CA (TLS with the real host names, or record signing)",
    )
    .requiredOption('-a, --admin <adminId>', 'administration, ISO 3166-1 alpha-2 (e.g. PE)')
    .requiredOption('--key <file>', 'where to write the new private key (PEM, mode 0600)')
    .requiredOption('-o, --out <file>', 'where to write the request (PEM)')
    .addOption(
      new Option('--host <name>', 'DNS name or IP address partners reach the gateway at, repeatable (TLS)')
        .argParser((value: string, previous: string[]) => [...previous, value])
        .default([]),
    )
    .addOption(
      new Option('--purpose <purpose>', 'what the certificate is for')
        .choices(['tls', 'signing'])
        .default('tls'),
    )
    .addOption(new Option('--alg <alg>', 'key type').choices([...ALLOWED_ALGORITHMS]).default('ES256'))
    .option('--org <name>', 'organization of the subject (default: "<adminId> customs administration")')
    .option('--force', 'replace existing files', false)
    .addHelpText(
      'after',
      '\nSend the request to your CA; configure the certificate it returns with its issuing CA after it (leaf first):\n' +
        '  tls: server.tls.certificate (and the key as server.tls.key); signing: a home.signing[] entry.\n' +
        'For a development PKI with a root and an issuing CA of its own, use `mra-gateway certs --host <name>`.\n' +
        'Exit codes: 0 written, 2 cannot run (usage error, file exists without --force).',
    )
    .action(
      (opts: {
        admin: string;
        key: string;
        out: string;
        host: string[];
        purpose: CsrPurpose;
        alg: SigningAlgorithm;
        org?: string;
        force: boolean;
      }) => {
        const files = writeCsr({
          admin: opts.admin,
          purpose: opts.purpose,
          hosts: opts.host,
          alg: opts.alg,
          organization: opts.org,
          keyPath: resolve(opts.key),
          csrPath: resolve(opts.out),
          force: opts.force,
        });
        console.log(`private key (keep it; mode 0600)  ${files.keyPath}`);
        console.log(`certificate request (to your CA)  ${files.csrPath}`);
        console.log(`subject                           ${files.subject}`);
        if (files.altNames.length > 0)
          console.log(`subjectAltName                    ${files.altNames.join(', ')}`);
        process.exitCode = EXIT_OK;
      },
    );
}
