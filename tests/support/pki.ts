/**
 * Whole PKIs in memory for tests, good and bad (docs/threats.md section D). Keys are made once per kind and role
 * and reused for the whole process: RSA generation is slow, and certificates, not keys, are what differ
 * between cases.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import {
  buildCertificate,
  type CertificateOptions,
  type DistinguishedName,
  type ExtraExtension,
  type SignatureHash,
} from '../../src/crypto/cert-builder.ts';
import { parseCertificate } from '../../src/crypto/certificate.ts';
import { makeRevocation } from '../../src/crypto/revocation.ts';
import type { KeyUsageName, ParsedCertificate, Revocation, TrustStore } from '../../src/crypto/types.ts';

/** The time every test checks at, unless it says otherwise. */
export const NOW = new Date('2026-06-01T12:00:00Z');
export const DAY = 24 * 3600 * 1000;
export const days = (n: number): Date => new Date(NOW.getTime() + n * DAY);

export type KeySpec =
  | 'p256'
  | 'p384'
  | 'p521'
  | 'secp256k1'
  | 'ed25519'
  | 'ed448'
  | 'rsa1024'
  | 'rsa2048'
  | 'rsa4096'
  | 'rsa2048e3'
  | 'rsa2048e1'
  | 'rsa8192public'
  | 'rsapss2048';

export interface KeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

const keys = new Map<string, KeyPair>();

/** One key pair per kind and role, made on first use. */
export function keyPair(spec: KeySpec, role = 'default'): KeyPair {
  const id = `${spec}/${role}`;
  let pair = keys.get(id);
  if (pair === undefined) {
    pair = generate(spec);
    keys.set(id, pair);
  }
  return pair;
}

function generate(spec: KeySpec): KeyPair {
  switch (spec) {
    case 'p256':
      return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    case 'p384':
      return generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    case 'p521':
      return generateKeyPairSync('ec', { namedCurve: 'secp521r1' });
    case 'secp256k1':
      return generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    case 'ed25519':
      return generateKeyPairSync('ed25519');
    case 'ed448':
      return generateKeyPairSync('ed448');
    case 'rsa1024':
      return generateKeyPairSync('rsa', { modulusLength: 1024 });
    case 'rsa2048':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'rsa4096':
      return generateKeyPairSync('rsa', { modulusLength: 4096 });
    case 'rsa2048e3':
      return generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 });
    case 'rsapss2048':
      return generateKeyPairSync('rsa-pss', {
        modulusLength: 2048,
        hashAlgorithm: 'sha256',
        mgf1HashAlgorithm: 'sha256',
      });
    case 'rsa8192public': {
      // Generating 8192-bit keys takes seconds; a random odd modulus of that size is a valid public key to import.
      const n = randomBytes(1024);
      n[0]! |= 0x80;
      n[n.length - 1]! |= 0x01;
      const publicKey = createPublicKey({
        key: { kty: 'RSA', n: n.toString('base64url'), e: 'AQAB' },
        format: 'jwk',
      });
      return { publicKey, privateKey: keyPair('rsa2048', 'e1-base').privateKey };
    }
    case 'rsa2048e1': {
      // OpenSSL will not generate e = 1, but will import it: only the public half is ever used.
      const base = keyPair('rsa2048', 'e1-base');
      const jwk = base.publicKey.export({ format: 'jwk' });
      return {
        publicKey: createPublicKey({ key: { ...jwk, e: 'AQ' }, format: 'jwk' }),
        privateKey: base.privateKey,
      };
    }
  }
}

/** One certificate of a test PKI; every field has a sound default. */
export interface CertSpec {
  key?: KeySpec;
  /** Which cached key of that kind: another role is another key. */
  keyRole?: string;
  name?: DistinguishedName;
  notBefore?: Date;
  notAfter?: Date;
  /** 'absent' leaves the extension out. */
  basicConstraints?: { ca: boolean; pathLen?: number } | 'absent';
  keyUsage?: KeyUsageName[] | 'absent';
  /** Hash of the signature on this certificate, made by its issuer. */
  signatureHash?: SignatureHash;
  rsaPadding?: 'pkcs1' | 'pss';
  extraExtensions?: ExtraExtension[];
  /** extKeyUsage purposes (names of EXTENDED_KEY_USAGE or dotted OIDs); absent when omitted. */
  extKeyUsage?: string[];
  /** A bigint or hex digits; random when omitted. */
  serial?: bigint | string;
}

export interface PkiSpec {
  root?: CertSpec;
  /** An intermediate CA between root and leaf; none when omitted. */
  intermediate?: CertSpec;
  leaf?: CertSpec;
  /** Put the root at the end of chainDer, as some partners do. */
  sendRoot?: boolean;
}

export interface TestPki {
  /** x5c: leaf first. */
  chainDer: Uint8Array[];
  leafKey: KeyObject;
  /** The partner's trust anchors: the root. */
  anchors: ParsedCertificate[];
  rootDer: Uint8Array;
  rootKey: KeyObject;
  intermediateDer: Uint8Array | undefined;
  intermediateKey: KeyObject | undefined;
  leafDer: Uint8Array;
}

export const ROOT_NAME: DistinguishedName = {
  commonName: 'PE test root CA',
  organization: 'PE customs',
  country: 'PE',
};

type CertDefaults = Required<
  Pick<CertSpec, 'name' | 'notBefore' | 'notAfter' | 'basicConstraints' | 'keyUsage'>
> & {
  keyRole: string;
};

export const ROOT_DEFAULTS: CertDefaults = {
  name: ROOT_NAME,
  notBefore: days(-365),
  notAfter: days(3650),
  basicConstraints: { ca: true },
  keyUsage: ['keyCertSign', 'cRLSign'],
  keyRole: 'root',
};
export const INTERMEDIATE_DEFAULTS: CertDefaults = {
  name: { commonName: 'PE test issuing CA', organization: 'PE customs' },
  notBefore: days(-365),
  notAfter: days(1825),
  basicConstraints: { ca: true, pathLen: 0 },
  keyUsage: ['keyCertSign', 'cRLSign'],
  keyRole: 'intermediate',
};
export const LEAF_DEFAULTS: CertDefaults = {
  name: { commonName: 'PE record signing', organization: 'PE customs' },
  notBefore: days(-30),
  notAfter: days(365),
  basicConstraints: { ca: false },
  keyUsage: ['digitalSignature'],
  keyRole: 'leaf',
};

export interface Issuer {
  name: DistinguishedName;
  privateKey: KeyObject;
}

/** Makes one certificate from a spec, signed by `issuer`, or by itself when issuer is undefined. */
export function makeCert(
  spec: CertSpec,
  defaults: CertDefaults,
  issuer: Issuer | undefined,
): { der: Uint8Array; key: KeyPair; name: DistinguishedName } {
  const key = keyPair(spec.key ?? 'p256', spec.keyRole ?? defaults.keyRole);
  const name = spec.name ?? defaults.name;
  const bc = spec.basicConstraints ?? defaults.basicConstraints;
  const ku = spec.keyUsage ?? defaults.keyUsage;
  const options: CertificateOptions = {
    subjectPublicKey: key.publicKey,
    issuerPrivateKey: issuer?.privateKey ?? key.privateKey,
    subject: name,
    issuer: issuer?.name ?? name,
    notBefore: spec.notBefore ?? defaults.notBefore,
    notAfter: spec.notAfter ?? defaults.notAfter,
    basicConstraints: bc === 'absent' ? undefined : bc,
    keyUsage: ku === 'absent' ? undefined : ku,
    signatureHash: spec.signatureHash,
    rsaPadding: spec.rsaPadding,
    extraExtensions: spec.extraExtensions,
    extKeyUsage: spec.extKeyUsage,
    serial: spec.serial,
  };
  return { der: buildCertificate(options), key, name };
}

export function makePki(spec: PkiSpec = {}): TestPki {
  const root = makeCert(spec.root ?? {}, ROOT_DEFAULTS, undefined);
  let issuer: Issuer = { name: root.name, privateKey: root.key.privateKey };
  let intermediate: ReturnType<typeof makeCert> | undefined;
  if (spec.intermediate !== undefined) {
    intermediate = makeCert(spec.intermediate, INTERMEDIATE_DEFAULTS, issuer);
    issuer = { name: intermediate.name, privateKey: intermediate.key.privateKey };
  }
  const leaf = makeCert(spec.leaf ?? {}, LEAF_DEFAULTS, issuer);
  const chainDer = [leaf.der];
  if (intermediate !== undefined) chainDer.push(intermediate.der);
  if (spec.sendRoot === true) chainDer.push(root.der);
  return {
    chainDer,
    leafKey: leaf.key.privateKey,
    anchors: [parseCertificate(root.der)],
    rootDer: root.der,
    rootKey: root.key.privateKey,
    intermediateDer: intermediate?.der,
    intermediateKey: intermediate?.key.privateKey,
    leafDer: leaf.der,
  };
}

export function trustStoreOf(
  anchors: readonly ParsedCertificate[],
  opts: {
    adminId?: string;
    /** Revoked by identity (issuer and serial), as a CRL or the configuration's certificates would. */
    revoked?: readonly Uint8Array[];
    /** Revoked by the exact bytes only (the deprecated fingerprint list). */
    revokedFingerprints?: readonly Uint8Array[];
    revocation?: Revocation;
  } = {},
): TrustStore {
  const identities = (opts.revoked ?? []).map((der) => parseCertificate(der).identity);
  const fingerprints = (opts.revokedFingerprints ?? []).map((der) => parseCertificate(der).fingerprint);
  return {
    adminId: opts.adminId ?? 'PE',
    anchors,
    revokedFingerprints: new Set(fingerprints),
    revocation: opts.revocation ?? makeRevocation({ identities }),
  };
}

/** An extension no verifier knows, under a private enterprise arc. */
export const UNKNOWN_EXTENSION_OID = '1.3.6.1.4.1.55555.1.1';
export const unknownExtension = (critical: boolean): ExtraExtension => ({
  oid: UNKNOWN_EXTENSION_OID,
  critical,
  valueDer: Uint8Array.of(0x05, 0x00),
});
