/**
 * Makes a development administration's PKI on disk as real administrations run theirs, on two levels: a root
 * CA (the anchor partners configure), an issuing CA under it (given to partners too, for `intermediates`), and
 * under the issuing CA a signing certificate for records and a TLS certificate. For set-up and demos only;
 * production keys come from the administration's own PKI.
 */

import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { GatewayError } from '../errors.ts';
import { buildCertificate, type DistinguishedName, toPem } from './cert-builder.ts';
import type { SigningAlgorithm } from './types.ts';

export interface DevAdministrationOptions {
  /** Start of every validity period; default the current time. */
  now?: Date | undefined;
  /** Key type of the signing certificate; default ES256 (P-256). */
  signingAlg?: SigningAlgorithm | undefined;
  /** Key type of the root CA and of the issuing CA; default ES256 (P-256). */
  rootAlg?: SigningAlgorithm | undefined;
  /** Key type of the TLS certificate; default 'ec' (P-256). */
  tlsKeyType?: 'ec' | 'rsa' | undefined;
  /**
   * DNS names and IP addresses the TLS certificate is for (its subjectAltName; the first is also its common
   * name); default DEFAULT_TLS_HOSTS.
   */
  hosts?: readonly string[] | undefined;
  /** Replace files already there; without it an existing file is an error and nothing is written. */
  force?: boolean | undefined;
}

export interface DevAdministrationPaths {
  /** The root CA: the trust anchor partners configure. */
  rootCert: string;
  rootKey: string;
  /** The issuing CA: partners configure it as an intermediate of this administration. */
  issuingCert: string;
  issuingKey: string;
  /** Signing leaf then issuing CA: what the configuration's `certificateChain` names. */
  signingCert: string;
  signingKey: string;
  /** TLS leaf then issuing CA, so that a peer that knows only the root still builds the path. */
  tlsCert: string;
  tlsKey: string;
}

export const DEFAULT_TLS_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];

const YEAR_MS = 365 * 24 * 3600 * 1000;
/** Starts a little in the past so that a partner whose clock is behind does not see a not-yet-valid certificate. */
const BACKDATE_MS = 5 * 60 * 1000;
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function createDevAdministration(
  adminId: string,
  dir: string,
  opts: DevAdministrationOptions = {},
): DevAdministrationPaths {
  if (!/^[A-Z]{2}$/.test(adminId))
    throw new GatewayError('CONFIG_INVALID', `adminId ${adminId} is not two capitals`);
  const hosts = tlsHosts(opts.hosts ?? DEFAULT_TLS_HOSTS);
  const paths: DevAdministrationPaths = {
    rootCert: join(dir, 'root.pem'),
    rootKey: join(dir, 'root.key'),
    issuingCert: join(dir, 'issuing-ca.pem'),
    issuingKey: join(dir, 'issuing-ca.key'),
    signingCert: join(dir, 'signing.pem'),
    signingKey: join(dir, 'signing.key'),
    tlsCert: join(dir, 'tls.pem'),
    tlsKey: join(dir, 'tls.key'),
  };
  if (opts.force !== true) {
    const present = Object.values(paths).filter((p) => existsSync(p));
    if (present.length > 0) {
      throw new GatewayError('CONFIG_INVALID', `refusing to overwrite ${present.join(', ')} (use --force)`);
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
  const issuingName: DistinguishedName = {
    commonName: `${adminId} MRA development issuing CA`,
    organization: org,
    country: adminId,
  };

  const root = keyPair(opts.rootAlg ?? 'ES256');
  const rootDer = buildCertificate({
    subjectPublicKey: root.publicKey,
    issuerPrivateKey: root.privateKey,
    subject: rootName,
    issuer: rootName,
    notBefore: start,
    notAfter: until(10),
    basicConstraints: { ca: true, pathLen: 1 },
    keyUsage: ['keyCertSign', 'cRLSign'],
  });

  const issuing = keyPair(opts.rootAlg ?? 'ES256');
  const issuingDer = buildCertificate({
    subjectPublicKey: issuing.publicKey,
    issuerPrivateKey: root.privateKey,
    subject: issuingName,
    issuer: rootName,
    notBefore: start,
    notAfter: until(5),
    basicConstraints: { ca: true, pathLen: 0 },
    keyUsage: ['keyCertSign', 'cRLSign'],
  });

  const signing = keyPair(opts.signingAlg ?? 'ES256');
  const signingDer = buildCertificate({
    subjectPublicKey: signing.publicKey,
    issuerPrivateKey: issuing.privateKey,
    subject: { commonName: `${adminId} MRA record signing`, organization: org, country: adminId },
    issuer: issuingName,
    notBefore: start,
    notAfter: until(2),
    basicConstraints: { ca: false },
    keyUsage: ['digitalSignature'],
  });

  const tls = opts.tlsKeyType === 'rsa' ? keyPair('PS256') : keyPair('ES256');
  const tlsDer = buildCertificate({
    subjectPublicKey: tls.publicKey,
    issuerPrivateKey: issuing.privateKey,
    subject: { commonName: hosts.all[0]!, organization: org, country: adminId },
    issuer: issuingName,
    notBefore: start,
    notAfter: until(2),
    basicConstraints: { ca: false },
    keyUsage: opts.tlsKeyType === 'rsa' ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'],
    extKeyUsage: ['serverAuth', 'clientAuth'],
    subjectAltName: { dns: hosts.dns, ips: hosts.ips },
  });

  mkdirSync(dir, { recursive: true });
  const write = (path: string, text: string, mode: number) => {
    // Removed first rather than truncated: the mode of a file only takes effect when the file is created.
    if (opts.force === true) rmSync(path, { force: true });
    writeFileSync(path, text, { mode, flag: 'wx' });
  };
  write(paths.rootCert, toPem(rootDer), 0o644);
  write(paths.rootKey, pkcs8(root.privateKey), 0o600);
  write(paths.issuingCert, toPem(issuingDer), 0o644);
  write(paths.issuingKey, pkcs8(issuing.privateKey), 0o600);
  write(paths.signingCert, toPem(signingDer) + toPem(issuingDer), 0o644);
  write(paths.signingKey, pkcs8(signing.privateKey), 0o600);
  write(paths.tlsCert, toPem(tlsDer) + toPem(issuingDer), 0o644);
  write(paths.tlsKey, pkcs8(tls.privateKey), 0o600);
  return paths;
}

/** Sorts host names from addresses, refusing anything that is neither, before any key is made. */
function tlsHosts(hosts: readonly string[]): { all: string[]; dns: string[]; ips: string[] } {
  if (hosts.length === 0)
    throw new GatewayError('CONFIG_INVALID', 'the TLS certificate needs at least one host');
  const all: string[] = [];
  const dns: string[] = [];
  const ips: string[] = [];
  for (const given of hosts) {
    const host = given.trim().toLowerCase();
    if (all.includes(host)) continue;
    const version = isIP(host);
    // The certificate builder writes IPv6 in hex groups only; a dotted IPv4 tail is refused rather than mangled.
    if (version === 4 || (version === 6 && !host.includes('.'))) ips.push(host);
    else if (host.length <= 253 && host.split('.').every((label) => DNS_LABEL.test(label))) dns.push(host);
    else {
      throw new GatewayError(
        'CONFIG_INVALID',
        `TLS host ${JSON.stringify(given)} is neither a DNS name nor an IP address`,
      );
    }
    all.push(host);
  }
  return { all, dns, ips };
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
