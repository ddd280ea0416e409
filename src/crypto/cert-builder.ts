/**
 * Makes X.509 v3 certificates for set-up and tests. node-forge cannot make EC or Ed25519 certificates, so it
 * is used here only to encode ASN.1; every signature is made by node:crypto. Nothing here verifies anything.
 */
import {
  createHash,
  createPublicKey,
  type KeyObject,
  randomBytes,
  constants as rsa,
  sign,
} from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';
import { OID as EXT, KEY_USAGE_BITS } from './cert-fields.ts';
import { decodeBitString, decodeDer, sequence } from './der.ts';
import type { KeyUsageName } from './types.ts';

export interface DistinguishedName {
  commonName: string;
  organization?: string | undefined;
  country?: string | undefined;
}

export type SignatureHash = 'sha256' | 'sha384' | 'sha512' | 'sha1' | 'md5';

export interface ExtraExtension {
  oid: string;
  critical: boolean;
  /** The extension's value, already DER: it goes inside the extnValue OCTET STRING as is. */
  valueDer: Uint8Array;
}

export interface CertificateOptions {
  /** The subject's key, or its SubjectPublicKeyInfo DER for keys node:crypto will not make (RSA e = 1). */
  subjectPublicKey: KeyObject | Uint8Array;
  issuerPrivateKey: KeyObject;
  subject: DistinguishedName;
  issuer: DistinguishedName;
  /** A bigint or hex digits; a random positive 127-bit serial when omitted. */
  serial?: bigint | string | undefined;
  notBefore: Date;
  notAfter: Date;
  /** Omitted: no basicConstraints extension at all. Always written critical. */
  basicConstraints?: { ca: boolean; pathLen?: number | undefined } | undefined;
  /** Omitted: no keyUsage extension. Always written critical. */
  keyUsage?: readonly KeyUsageName[] | undefined;
  /** Dotted OIDs or the names in EXTENDED_KEY_USAGE. */
  extKeyUsage?: readonly string[] | undefined;
  subjectAltName?: { dns?: readonly string[] | undefined; ips?: readonly string[] | undefined } | undefined;
  extraExtensions?: readonly ExtraExtension[] | undefined;
  /** Hash of the certificate signature; ignored for Ed25519/Ed448 issuers. SHA-1 and MD5 exist for tests. */
  signatureHash?: SignatureHash | undefined;
  /** For an RSA issuer: PKCS#1 v1.5 (default) or RSASSA-PSS. An 'rsa-pss' issuer key always uses PSS. */
  rsaPadding?: 'pkcs1' | 'pss' | undefined;
  /** Default true: subjectKeyIdentifier and authorityKeyIdentifier from the keys. */
  keyIdentifiers?: boolean | undefined;
}

export const EXTENDED_KEY_USAGE: Readonly<Record<string, string>> = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
};

const asn1 = forge.asn1;
type Node = forge.asn1.Asn1;
const U = asn1.Class.UNIVERSAL;
const T = asn1.Type;

const RSA_PKCS1_OIDS: Record<SignatureHash, string> = {
  md5: '1.2.840.113549.1.1.4',
  sha1: '1.2.840.113549.1.1.5',
  sha256: '1.2.840.113549.1.1.11',
  sha384: '1.2.840.113549.1.1.12',
  sha512: '1.2.840.113549.1.1.13',
};
const ECDSA_OIDS: Partial<Record<SignatureHash, string>> = {
  sha1: '1.2.840.10045.4.1',
  sha256: '1.2.840.10045.4.3.2',
  sha384: '1.2.840.10045.4.3.3',
  sha512: '1.2.840.10045.4.3.4',
};
const HASH_OIDS: Partial<Record<SignatureHash, string>> = {
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
};
const HASH_BYTES: Record<SignatureHash, number> = { md5: 16, sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

export function buildCertificate(opts: CertificateOptions): Uint8Array {
  const spki =
    opts.subjectPublicKey instanceof Uint8Array
      ? opts.subjectPublicKey
      : new Uint8Array(opts.subjectPublicKey.export({ type: 'spki', format: 'der' }));
  const issuerSpki = createPublicKey(opts.issuerPrivateKey).export({ type: 'spki', format: 'der' });
  const signer = signatureScheme(opts);
  const exts = extensions(opts, spki, issuerSpki);
  const tbs = seq(
    explicit(0, integer(2n)),
    integer(serialOf(opts.serial)),
    signer.algorithm,
    distinguishedName(opts.issuer),
    seq(time(opts.notBefore), time(opts.notAfter)),
    distinguishedName(opts.subject),
    fromDer(spki),
    ...(exts.length > 0 ? [explicit(3, seq(...exts))] : []),
  );
  const tbsDer = toBytes(tbs);
  const signature = signer.sign(tbsDer);
  return toBytes(seq(tbs, signer.algorithm, bitString(signature)));
}

export function toPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

interface SignatureScheme {
  algorithm: Node;
  sign(tbs: Uint8Array): Uint8Array;
}

function signatureScheme(opts: CertificateOptions): SignatureScheme {
  const key = opts.issuerPrivateKey;
  const hash = opts.signatureHash ?? 'sha256';
  switch (key.asymmetricKeyType) {
    case 'ed25519':
    case 'ed448':
      return {
        algorithm: seq(oid(key.asymmetricKeyType === 'ed25519' ? '1.3.101.112' : '1.3.101.113')),
        sign: (tbs) => sign(null, tbs, key),
      };
    case 'ec': {
      const algOid = ECDSA_OIDS[hash];
      if (algOid === undefined) throw new Error(`ECDSA with ${hash} has no signature algorithm`);
      return { algorithm: seq(oid(algOid)), sign: (tbs) => sign(hash, tbs, { key, dsaEncoding: 'der' }) };
    }
    case 'rsa':
    case 'rsa-pss': {
      if (key.asymmetricKeyType === 'rsa' && opts.rsaPadding !== 'pss') {
        return { algorithm: seq(oid(RSA_PKCS1_OIDS[hash]), nul()), sign: (tbs) => sign(hash, tbs, key) };
      }
      const saltLength = HASH_BYTES[hash];
      return {
        algorithm: seq(oid(EXT.rsassaPss), pssParams(hash)),
        sign: (tbs) => sign(hash, tbs, { key, padding: rsa.RSA_PKCS1_PSS_PADDING, saltLength }),
      };
    }
    default:
      throw new Error(`cannot sign certificates with a ${key.asymmetricKeyType} key`);
  }
}

/** RFC 4055 parameters; the SHA-1 defaults are left out, as DER requires. */
function pssParams(hash: SignatureHash): Node {
  if (hash === 'sha1') return seq();
  const hashOid = HASH_OIDS[hash];
  if (hashOid === undefined) throw new Error(`RSASSA-PSS with ${hash} is not supported`);
  const hashAlg = seq(oid(hashOid), nul());
  return seq(
    explicit(0, hashAlg),
    explicit(1, seq(oid('1.2.840.113549.1.1.8'), hashAlg)),
    explicit(2, integer(BigInt(HASH_BYTES[hash]))),
  );
}

function extensions(opts: CertificateOptions, spki: Uint8Array, issuerSpki: Uint8Array): Node[] {
  const out: Node[] = [];
  const add = (extnId: string, critical: boolean, value: Node | Uint8Array) => {
    const valueBytes = value instanceof Uint8Array ? value : toBytes(value);
    const parts = [oid(extnId)];
    if (critical) parts.push(asn1.create(U, T.BOOLEAN, false, '\xff'));
    parts.push(asn1.create(U, T.OCTETSTRING, false, binary(valueBytes)));
    out.push(seq(...parts));
  };
  if (opts.basicConstraints !== undefined) {
    const { ca, pathLen } = opts.basicConstraints;
    const fields: Node[] = [];
    if (ca) fields.push(asn1.create(U, T.BOOLEAN, false, '\xff'));
    if (pathLen !== undefined) fields.push(integer(BigInt(pathLen)));
    add(EXT.basicConstraints, true, seq(...fields));
  }
  if (opts.keyUsage !== undefined) add(EXT.keyUsage, true, keyUsageBits(opts.keyUsage));
  if (opts.extKeyUsage !== undefined) {
    const oids = opts.extKeyUsage.map((n) => oid(EXTENDED_KEY_USAGE[n] ?? n));
    add(EXT.extKeyUsage, false, seq(...oids));
  }
  if (opts.subjectAltName !== undefined)
    add(EXT.subjectAltName, false, subjectAltNames(opts.subjectAltName.dns, opts.subjectAltName.ips));
  if (opts.keyIdentifiers !== false) {
    add(EXT.subjectKeyIdentifier, false, octets(keyIdentifier(spki)));
    const aki = asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, binary(keyIdentifier(issuerSpki)));
    add(EXT.authorityKeyIdentifier, false, seq(aki));
  }
  for (const extra of opts.extraExtensions ?? []) add(extra.oid, extra.critical, extra.valueDer);
  return out;
}

/** RFC 7093 method 1: the leftmost 160 bits of the SHA-256 of the subjectPublicKey bits. */
function keyIdentifier(spki: Uint8Array): Uint8Array {
  const keyBits = decodeBitString(sequence(decodeDer(spki), 'subjectPublicKeyInfo')[1]!).bytes;
  return createHash('sha256').update(keyBits).digest().subarray(0, 20);
}

/** A named bit list: DER drops trailing zero bits and counts the rest as unused. */
export function keyUsageBits(usages: readonly KeyUsageName[]): Node {
  const positions = usages.map((u) => KEY_USAGE_BITS.indexOf(u));
  const highest = Math.max(-1, ...positions);
  const bytes = new Uint8Array(highest < 0 ? 0 : (highest >> 3) + 1);
  for (const n of positions) bytes[n >> 3]! |= 0x80 >> (n & 7);
  const unused = highest < 0 ? 0 : 7 - (highest & 7);
  return asn1.create(U, T.BITSTRING, false, String.fromCharCode(unused) + binary(bytes));
}

/** The GeneralNames of a subjectAltName: DNS names, then IP addresses (IPv6 in hex groups). */
export function subjectAltNames(dns: readonly string[] = [], ips: readonly string[] = []): Node {
  const ctx = asn1.Class.CONTEXT_SPECIFIC;
  return seq(
    ...dns.map((d) => asn1.create(ctx, 2, false, d)),
    ...ips.map((ip) => asn1.create(ctx, 7, false, binary(ipBytes(ip)))),
  );
}

function ipBytes(ip: string): Uint8Array {
  const version = isIP(ip);
  if (version === 4) return Uint8Array.from(ip.split('.').map(Number));
  if (version !== 6 || ip.includes('.'))
    throw new Error(`not an IP address a certificate or request can name: ${ip}`);
  const [head = '', tail] = ip.split('::');
  const groups = (s: string | undefined) => (s ? s.split(':').map((g) => Number.parseInt(g, 16)) : []);
  const before = groups(head);
  const after = groups(tail);
  const all =
    tail === undefined ? before : [...before, ...Array(8 - before.length - after.length).fill(0), ...after];
  return Uint8Array.from(all.flatMap((g: number) => [g >> 8, g & 0xff]));
}

/** A Name of the profile: country, organisation and common name, each its own RDN. */
export function distinguishedName(dn: DistinguishedName): Node {
  const rdn = (attrOid: string, type: forge.asn1.Type, value: string) =>
    asn1.create(U, T.SET, true, [seq(oid(attrOid), asn1.create(U, type, false, value))]);
  const rdns: Node[] = [];
  if (dn.country !== undefined) rdns.push(rdn('2.5.4.6', T.PRINTABLESTRING, dn.country));
  if (dn.organization !== undefined) rdns.push(rdn('2.5.4.10', T.UTF8, utf8(dn.organization)));
  rdns.push(rdn('2.5.4.3', T.UTF8, utf8(dn.commonName)));
  return seq(...rdns);
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function time(date: Date): Node {
  const year = date.getUTCFullYear();
  return year >= 1950 && year < 2050
    ? asn1.create(U, T.UTCTIME, false, asn1.dateToUtcTime(date))
    : asn1.create(U, T.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date));
}

function serialOf(serial: bigint | string | undefined): bigint {
  if (typeof serial === 'bigint') return serial;
  if (typeof serial === 'string') return BigInt(`0x${serial}`);
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return BigInt(`0x${bytes.toString('hex')}`);
}

/** Minimal two's-complement encoding of a non-negative integer. */
function integer(n: bigint): Node {
  if (n < 0n) throw new Error('negative INTEGER');
  let hex = n.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (Number.parseInt(hex.slice(0, 2), 16) & 0x80) hex = `00${hex}`;
  return asn1.create(U, T.INTEGER, false, Buffer.from(hex, 'hex').toString('binary'));
}

const seq = (...items: Node[]): Node => asn1.create(U, T.SEQUENCE, true, items);
const oid = (dotted: string): Node => asn1.create(U, T.OID, false, asn1.oidToDer(dotted).getBytes());
const nul = (): Node => asn1.create(U, T.NULL, false, '');
const octets = (bytes: Uint8Array): Node => asn1.create(U, T.OCTETSTRING, false, binary(bytes));
const explicit = (n: number, inner: Node): Node => asn1.create(asn1.Class.CONTEXT_SPECIFIC, n, true, [inner]);
const bitString = (bytes: Uint8Array): Node => asn1.create(U, T.BITSTRING, false, `\x00${binary(bytes)}`);
const binary = (bytes: Uint8Array): string => Buffer.from(bytes).toString('binary');
const utf8 = (s: string): string => Buffer.from(s, 'utf8').toString('binary');
const toBytes = (node: Node): Uint8Array =>
  new Uint8Array(Buffer.from(asn1.toDer(node).getBytes(), 'binary'));

/** Embeds DER made elsewhere; refuses it if forge would not write back the same bytes. */
function fromDer(der: Uint8Array): Node {
  const node = asn1.fromDer(binary(der), true);
  if (!Buffer.from(toBytes(node)).equals(der)) throw new Error('DER does not survive re-encoding');
  return node;
}
