/**
 * Makes a development administration's PKI on disk: a root CA, a signing certificate for records and a TLS
 * certificate, all under one root so that a partner configured with `ca.pem` trusts both. For set-up and
 * demos only; production keys come from the administration's own PKI.
 */

import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GatewayError } from '../errors.ts';
import { buildCertificate, type DistinguishedName, toPem } from './cert-builder.ts';
import type { SigningAlgorithm } from './types.ts';

export interface DevAdministrationOptions {
  /** Start of every validity period; default the current time. */
  now?: Date | undefined;
  /** Key type of the signing certificate; default ES256 (P-256). */
  signingAlg?: SigningAlgorithm | undefined;
  /** Key type of the root CA; default ES256 (P-256). */
  rootAlg?: SigningAlgorithm | undefined;
  /** Key type of the TLS certificate; default 'ec' (P-256). */
  tlsKeyType?: 'ec' | 'rsa' | undefined;
  /** Replace files already there; without it an existing file is an error and nothing is written. */
  force?: boolean | undefined;
}

export interface DevAdministrationPaths {
  caCert: string;
  caKey: string;
  signingCert: string;
  signingKey: string;
  tlsCert: string;
  tlsKey: string;
}

const YEAR_MS = 365 * 24 * 3600 * 1000;
/** Starts a little in the past so that a partner whose clock is behind does not see a not-yet-valid certificate. */
const BACKDATE_MS = 5 * 60 * 1000;

export function createDevAdministration(
  adminId: string,
  dir: string,
  opts: DevAdministrationOptions = {},
): DevAdministrationPaths {
  if (!/^[A-Z]{2}$/.test(adminId))
    throw new GatewayError('CONFIG_INVALID', `adminId ${adminId} is not two capitals`);
  const paths: DevAdministrationPaths = {
    caCert: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca.key'),
    signingCert: join(dir, 'signing.pem'),
    signingKey: join(dir, 'signing.key'),
    tlsCert: join(dir, 'tls.pem'),
    tlsKey: join(dir, 'tls.key'),
  };
  if (opts.force !== true) {
    const present = Object.values(paths).filter((p) => existsSync(p));
    if (present.length > 0) {
      throw new GatewayError('CONFIG_INVALID', `refusing to overwrite ${present.join(', ')} (use force)`);
    }
  }

  const start = new Date((opts.now ?? new Date()).getTime() - BACKDATE_MS);
  const until = (years: number) => new Date(start.getTime() + years * YEAR_MS);
  const org = `${adminId} customs administration (development)`;
  const rootName: DistinguishedName = {
    commonName: `${adminId} MRA development root CA`,
    organization: org,
    country: adminId,
  };

  const root = keyPair(opts.rootAlg ?? 'ES256');
  const caDer = buildCertificate({
    subjectPublicKey: root.publicKey,
    issuerPrivateKey: root.privateKey,
    subject: rootName,
    issuer: rootName,
    notBefore: start,
    notAfter: until(10),
    basicConstraints: { ca: true, pathLen: 0 },
    keyUsage: ['keyCertSign', 'cRLSign'],
  });

  const signing = keyPair(opts.signingAlg ?? 'ES256');
  const signingDer = buildCertificate({
    subjectPublicKey: signing.publicKey,
    issuerPrivateKey: root.privateKey,
    subject: { commonName: `${adminId} MRA record signing`, organization: org, country: adminId },
    issuer: rootName,
    notBefore: start,
    notAfter: until(2),
    basicConstraints: { ca: false },
    keyUsage: ['digitalSignature'],
  });

  const tls = opts.tlsKeyType === 'rsa' ? keyPair('PS256') : keyPair('ES256');
  const tlsDer = buildCertificate({
    subjectPublicKey: tls.publicKey,
    issuerPrivateKey: root.privateKey,
    subject: { commonName: 'localhost', organization: org, country: adminId },
    issuer: rootName,
    notBefore: start,
    notAfter: until(2),
    basicConstraints: { ca: false },
    keyUsage: opts.tlsKeyType === 'rsa' ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'],
    extKeyUsage: ['serverAuth', 'clientAuth'],
    subjectAltName: { dns: ['localhost'], ips: ['127.0.0.1', '::1'] },
  });

  mkdirSync(dir, { recursive: true });
  const write = (path: string, text: string, mode: number) => {
    // Removed first rather than truncated: the mode of a file only takes effect when the file is created.
    if (opts.force === true) rmSync(path, { force: true });
    writeFileSync(path, text, { mode, flag: 'wx' });
  };
  write(paths.caCert, toPem(caDer), 0o644);
  write(paths.caKey, pkcs8(root.privateKey), 0o600);
  write(paths.signingCert, toPem(signingDer), 0o644);
  write(paths.signingKey, pkcs8(signing.privateKey), 0o600);
  write(paths.tlsCert, toPem(tlsDer), 0o644);
  write(paths.tlsKey, pkcs8(tls.privateKey), 0o600);
  return paths;
}

function keyPair(alg: SigningAlgorithm): { publicKey: KeyObject; privateKey: KeyObject } {
  switch (alg) {
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    case 'EdDSA':
      return generateKeyPairSync('ed25519');
    case 'PS256':
      return generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 65537 });
  }
}

function pkcs8(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}
