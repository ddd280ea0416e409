/**
 * `keys rotate`: a new signing key, with its certificate from the development issuing CA (`--ca`, `--ca-key`)
 * or a certification request for the administration's own CA; prints the `home.signing[]` entry to add. The
 * certificate with the newest notBefore signs; every configured one stays published in .well-known until it
 * is removed, so partners accept records signed by either during the overlap.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { configPathFrom, loadConfig } from '../config/load.ts';
import { buildCertificate, type DistinguishedName, toPem } from '../crypto/cert-builder.ts';
import { parseCertificate, parsePemCertificates } from '../crypto/certificate.ts';
import { validateChain } from '../crypto/chain.ts';
import { buildCsr, newKeyFor } from '../crypto/csr.ts';
import { makeRevocation } from '../crypto/revocation.ts';
import { ALLOWED_ALGORITHMS, type ParsedCertificate, type SigningAlgorithm } from '../crypto/types.ts';
import { GatewayError } from '../errors.ts';
import { EXIT_OK, EXIT_PROBLEM } from './ops/common.ts';
import { refuseExisting, writeNew } from './ops/files.ts';

/** As the development PKI: a partner whose clock is a little behind does not see a not-yet-valid certificate. */
const BACKDATE_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 3600 * 1000;

interface RotateOptions {
  config?: string;
  out?: string;
  ca?: string;
  caKey?: string;
  alg?: string;
  days: string;
  force: boolean;
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('the signing keys of the home administration');
  keys
    .command('rotate')
    .description(
      'make a new signing key: with its certificate from a development issuing CA (--ca, --ca-key), or with a request for your CA',
    )
    .option('-c, --config <file>', 'configuration file (default: $MRA_CONFIG or ./gateway.yaml)')
    .option('-o, --out <dir>', 'folder for the new files (default: the folder of the configuration file)')
    .option('--ca <pem>', 'development issuing CA certificate (e.g. certs/PE/issuing-ca.pem)')
    .option('--ca-key <file>', 'its private key (e.g. certs/PE/issuing-ca.key)')
    .option(
      '--alg <alg>',
      `key type: ${ALLOWED_ALGORITHMS.join(', ')} (default: that of the current signing key)`,
    )
    .option('--days <n>', 'validity of a certificate made with --ca, in days (1 to 1825)', '730')
    .option('--force', 'replace existing files', false)
    .addHelpText(
      'after',
      '\nAdd the printed entry to home.signing (keep the current one), restart: the newest notBefore signs and both\n' +
        'keys are published in .well-known. Remove the old entry once partners no longer need it.\n' +
        'Exit codes: 0 written, 1 the new certificate fails the signing profile, 2 cannot run (usage error, configuration, CA files).',
    )
    .action((opts: RotateOptions) => {
      process.exitCode = rotate(opts);
    });
}

function rotate(opts: RotateOptions): number {
  const configPath = configPathFrom(opts.config);
  const config = loadConfig(configPath);
  const admin = config.home.adminId;
  const current = config.home.signers[0]!;
  const alg = (opts.alg ?? current.alg) as SigningAlgorithm;
  if (!(ALLOWED_ALGORITHMS as readonly string[]).includes(alg)) {
    throw new GatewayError('BAD_REQUEST', `--alg must be one of ${ALLOWED_ALGORITHMS.join(', ')}`);
  }
  if ((opts.ca === undefined) !== (opts.caKey === undefined)) {
    throw new GatewayError('BAD_REQUEST', '--ca and --ca-key go together');
  }
  const days = /^\d{1,4}$/.test(opts.days) ? Number(opts.days) : 0;
  if (days < 1 || days > 1825) throw new GatewayError('BAD_REQUEST', '--days must be 1 to 1825');
  const configDir = dirname(configPath);
  const outDir = resolve(opts.out ?? configDir);
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const keyPath = join(outDir, `signing-${stamp}.key`);
  const chainPath = join(outDir, `signing-${stamp}.pem`);
  const csrPath = join(outDir, `signing-${stamp}.csr`);
  const subject: DistinguishedName = {
    commonName: `${admin} MRA record signing`,
    organization: `${admin} customs administration`,
    country: admin,
  };
  const entry = stringify([
    {
      key: { file: relative(configDir, keyPath) || keyPath },
      certificateChain: relative(configDir, chainPath),
    },
  ]);

  if (opts.ca === undefined || opts.caKey === undefined) {
    refuseExisting([keyPath, csrPath], opts.force);
    const key = newKeyFor(alg);
    writeNew(keyPath, pem(key), 0o600, opts.force);
    writeNew(
      csrPath,
      toPem(buildCsr({ key, subject, purpose: 'signing' }), 'CERTIFICATE REQUEST'),
      0o644,
      opts.force,
    );
    console.log(`new signing key (${alg}, mode 0600)   ${keyPath}`);
    console.log(`certificate request (to your CA)      ${csrPath}`);
    console.log(`save the certificate your CA returns, then its issuing CA, as ${chainPath}`);
    console.log('then add to home.signing in the configuration, next to the current entry, and restart:');
    process.stdout.write(entry);
    return EXIT_OK;
  }

  const ca = readCa(resolve(opts.ca), resolve(opts.caKey));
  const now = Date.now();
  // Newer than every configured certificate, so that it is the one that signs once configured.
  const newest = Math.max(...config.home.signers.map((s) => s.chain[0]!.notBefore.getTime()));
  const notBefore = new Date(Math.max(now - BACKDATE_MS, newest + 1_000));
  const notAfter = new Date(Math.min(now + days * DAY_MS, ca.cert.notAfter.getTime()));
  const key = newKeyFor(alg);
  const leafDer = buildCertificate({
    subjectPublicKey: createPublicKey(key),
    issuerPrivateKey: ca.key,
    subject,
    issuer: ca.name,
    notBefore,
    notAfter,
    basicConstraints: { ca: false },
    keyUsage: ['digitalSignature'],
  });
  const leaf = parseCertificate(leafDer);
  if (!Buffer.from(leaf.issuerDer).equals(Buffer.from(ca.cert.subjectDer))) {
    throw new GatewayError(
      'CONFIG_INVALID',
      `the name of ${opts.ca} cannot be written back as it is; certify the key with your CA instead (omit --ca)`,
    );
  }
  const chain = [leaf, ...ca.chain];
  const trust = {
    adminId: admin,
    anchors: [ca.chain[ca.chain.length - 1]!],
    revokedFingerprints: new Set<string>(),
    revocation: makeRevocation({}),
  };
  const checked = validateChain(
    chain.map((c) => c.der),
    trust,
    new Date(Math.max(now, notBefore.getTime())),
    'signing',
  );
  if (!checked.ok) {
    console.error(
      `mra-gateway: the new certificate fails the signing profile: ${checked.code}: ${checked.detail}`,
    );
    return EXIT_PROBLEM;
  }
  refuseExisting([keyPath, chainPath], opts.force);
  writeNew(keyPath, pem(key), 0o600, opts.force);
  writeNew(chainPath, chain.map((c) => toPem(c.der)).join(''), 0o644, opts.force);
  console.log(`new signing key (${alg}, mode 0600)   ${keyPath}`);
  console.log(`signing chain (leaf, issuing CA)     ${chainPath}`);
  console.log(`valid                                ${notBefore.toISOString()} to ${notAfter.toISOString()}`);
  console.log(`kid                                  ${leaf.thumbprint}`);
  console.log('add to home.signing in the configuration, next to the current entry, and restart:');
  process.stdout.write(entry);
  return EXIT_OK;
}

function readCa(
  certPath: string,
  keyPath: string,
): { cert: ParsedCertificate; chain: ParsedCertificate[]; key: KeyObject; name: DistinguishedName } {
  let chain: ParsedCertificate[];
  let key: KeyObject;
  try {
    chain = parsePemCertificates(readFileSync(certPath, 'utf8'));
    key = createPrivateKey(readFileSync(keyPath));
  } catch (error) {
    throw new GatewayError('CONFIG_INVALID', `cannot read the CA: ${(error as Error).message}`);
  }
  const cert = chain[0];
  if (cert === undefined) throw new GatewayError('CONFIG_INVALID', `${certPath} holds no certificate`);
  if (cert.basicConstraintsCa !== true)
    throw new GatewayError('CONFIG_INVALID', `${certPath} is not a CA certificate`);
  const spki = (k: KeyObject) =>
    (k.type === 'public' ? k : createPublicKey(k)).export({ type: 'spki', format: 'der' });
  if (!spki(key).equals(spki(cert.publicKey))) {
    throw new GatewayError('CONFIG_INVALID', `${keyPath} is not the key of ${certPath}`);
  }
  const fields = new Map(
    cert.x509.subject
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  const commonName = fields.get('CN');
  if (commonName === undefined) throw new GatewayError('CONFIG_INVALID', `${certPath} has no common name`);
  return {
    cert,
    chain,
    key,
    name: { commonName, organization: fields.get('O'), country: fields.get('C') },
  };
}

const pem = (key: KeyObject): string => key.export({ type: 'pkcs8', format: 'pem' }).toString();
