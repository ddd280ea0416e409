/**
 * PKCS#10 certification requests (RFC 2986) for keys an administration's own CA is to certify: the subject,
 * the public key and the extensions asked for (subjectAltName with the real host names, key usages), signed
 * by the subject's own key with node:crypto. node-forge only encodes the ASN.1, as in cert-builder.ts.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';
import { type DistinguishedName, EXTENDED_KEY_USAGE } from './cert-builder.ts';
import { OID } from './certificate.ts';
import type { SigningAlgorithm } from './types.ts';

/** `tls`: server and client certificate of mutual TLS; `signing`: records, receipts and request tokens. */
export type CsrPurpose = 'tls' | 'signing';

export interface CsrOptions {
  key: KeyObject;
  subject: DistinguishedName;
  purpose: CsrPurpose;
  /** subjectAltName: DNS names and IP addresses (IPv6 in hex groups). */
  dns?: readonly string[] | undefined;
  ips?: readonly string[] | undefined;
}

const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const asn1 = forge.asn1;
type Node = forge.asn1.Asn1;
const U = asn1.Class.UNIVERSAL;
const T = asn1.Type;

/** A new key of the signing profile's kinds: P-256 (ES256), Ed25519 (EdDSA) or RSA 3072 (PS256). */
export function newKeyFor(alg: SigningAlgorithm): KeyObject {
  switch (alg) {
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    case 'EdDSA':
      return generateKeyPairSync('ed25519').privateKey;
    case 'PS256':
      return generateKeyPairSync('rsa', { modulusLength: 3072, publicExponent: 65537 }).privateKey;
  }
}

/** The DER of a certification request for `opts.key`, signed by that key. */
export function buildCsr(opts: CsrOptions): Uint8Array {
  const spkiDer = new Uint8Array(createPublicKey(opts.key).export({ type: 'spki', format: 'der' }));
  const info = seq(
    integer(0),
    name(opts.subject),
    asn1.fromDer(binary(spkiDer), true),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [
      seq(oid(EXTENSION_REQUEST), asn1.create(U, T.SET, true, [seq(...extensions(opts))])),
    ]),
  );
  const infoDer = toBytes(info);
  const scheme = schemeOf(opts.key);
  return toBytes(seq(info, scheme.algorithm, bitString(scheme.sign(infoDer))));
}

function schemeOf(key: KeyObject): { algorithm: Node; sign(data: Uint8Array): Uint8Array } {
  switch (key.asymmetricKeyType) {
    case 'ec':
      return {
        algorithm: seq(oid('1.2.840.10045.4.3.2')),
        sign: (data) => sign('sha256', data, { key, dsaEncoding: 'der' }),
      };
    case 'ed25519':
      return { algorithm: seq(oid('1.3.101.112')), sign: (data) => sign(null, data, key) };
    case 'rsa':
      return {
        algorithm: seq(oid('1.2.840.113549.1.1.11'), asn1.create(U, T.NULL, false, '')),
        sign: (data) => sign('sha256', data, key),
      };
    default:
      throw new Error(`cannot sign a request with a ${String(key.asymmetricKeyType)} key`);
  }
}

function extensions(opts: CsrOptions): Node[] {
  const ext = (id: string, critical: boolean, value: Node) =>
    seq(
      oid(id),
      ...(critical ? [asn1.create(U, T.BOOLEAN, false, '\xff')] : []),
      asn1.create(U, T.OCTETSTRING, false, asn1.toDer(value).getBytes()),
    );
  const rsa = opts.key.asymmetricKeyType === 'rsa';
  // digitalSignature (bit 0), and keyEncipherment (bit 2) for RSA TLS keys.
  const usage = opts.purpose === 'tls' && rsa ? '\x05\xa0' : '\x07\x80';
  const out = [
    ext(OID.basicConstraints, true, seq()),
    ext(OID.keyUsage, true, asn1.create(U, T.BITSTRING, false, usage)),
  ];
  if (opts.purpose === 'tls') {
    const eku = [EXTENDED_KEY_USAGE.serverAuth!, EXTENDED_KEY_USAGE.clientAuth!];
    out.push(ext(OID.extKeyUsage, false, seq(...eku.map(oid))));
  }
  const ctx = asn1.Class.CONTEXT_SPECIFIC;
  const names = [
    ...(opts.dns ?? []).map((d) => asn1.create(ctx, 2, false, d)),
    ...(opts.ips ?? []).map((ip) => asn1.create(ctx, 7, false, binary(ipBytes(ip)))),
  ];
  if (names.length > 0) out.push(ext(OID.subjectAltName, false, seq(...names)));
  return out;
}

function ipBytes(ip: string): Uint8Array {
  const version = isIP(ip);
  if (version === 4) return Uint8Array.from(ip.split('.').map(Number));
  if (version !== 6 || ip.includes('.')) throw new Error(`not an IP address a request can name: ${ip}`);
  const [head = '', tail] = ip.split('::');
  const groups = (s: string | undefined) => (s ? s.split(':').map((g) => Number.parseInt(g, 16)) : []);
  const before = groups(head);
  const after = groups(tail);
  const all =
    tail === undefined ? before : [...before, ...Array(8 - before.length - after.length).fill(0), ...after];
  return Uint8Array.from(all.flatMap((g: number) => [g >> 8, g & 0xff]));
}

function name(dn: DistinguishedName): Node {
  const rdn = (attrOid: string, type: forge.asn1.Type, value: string) =>
    asn1.create(U, T.SET, true, [seq(oid(attrOid), asn1.create(U, type, false, value))]);
  const rdns: Node[] = [];
  if (dn.country !== undefined) rdns.push(rdn('2.5.4.6', T.PRINTABLESTRING, dn.country));
  if (dn.organization !== undefined) rdns.push(rdn('2.5.4.10', T.UTF8, utf8(dn.organization)));
  rdns.push(rdn('2.5.4.3', T.UTF8, utf8(dn.commonName)));
  return seq(...rdns);
}

const seq = (...items: Node[]): Node => asn1.create(U, T.SEQUENCE, true, items);
const oid = (dotted: string): Node => asn1.create(U, T.OID, false, asn1.oidToDer(dotted).getBytes());
const integer = (n: number): Node => asn1.create(U, T.INTEGER, false, String.fromCharCode(n));
const bitString = (bytes: Uint8Array): Node => asn1.create(U, T.BITSTRING, false, `\x00${binary(bytes)}`);
const binary = (bytes: Uint8Array): string => Buffer.from(bytes).toString('binary');
const utf8 = (s: string): string => Buffer.from(s, 'utf8').toString('binary');
const toBytes = (node: Node): Uint8Array =>
  new Uint8Array(Buffer.from(asn1.toDer(node).getBytes(), 'binary'));
