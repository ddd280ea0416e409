/**
 * PKCS#10 certification requests (RFC 2986) for keys an administration's own CA is to certify: the subject,
 * the public key and the extensions asked for (subjectAltName with the real host names, key usages), signed
 * by the subject's own key with node:crypto. node-forge only encodes the ASN.1, as in cert-builder.ts.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import forge from 'node-forge';
import {
  type DistinguishedName,
  distinguishedName,
  EXTENDED_KEY_USAGE,
  keyUsageBits,
  subjectAltNames,
} from './cert-builder.ts';
import { OID } from './cert-fields.ts';
import type { KeyUsageName, SigningAlgorithm } from './types.ts';

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
    distinguishedName(opts.subject),
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
  const usage: KeyUsageName[] =
    opts.purpose === 'tls' && rsa ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'];
  const out = [ext(OID.basicConstraints, true, seq()), ext(OID.keyUsage, true, keyUsageBits(usage))];
  if (opts.purpose === 'tls') {
    const eku = [EXTENDED_KEY_USAGE.serverAuth!, EXTENDED_KEY_USAGE.clientAuth!];
    out.push(ext(OID.extKeyUsage, false, seq(...eku.map(oid))));
  }
  if ((opts.dns ?? []).length + (opts.ips ?? []).length > 0)
    out.push(ext(OID.subjectAltName, false, subjectAltNames(opts.dns, opts.ips)));
  return out;
}

const seq = (...items: Node[]): Node => asn1.create(U, T.SEQUENCE, true, items);
const oid = (dotted: string): Node => asn1.create(U, T.OID, false, asn1.oidToDer(dotted).getBytes());
const integer = (n: number): Node => asn1.create(U, T.INTEGER, false, String.fromCharCode(n));
const bitString = (bytes: Uint8Array): Node => asn1.create(U, T.BITSTRING, false, `\x00${binary(bytes)}`);
const binary = (bytes: Uint8Array): string => Buffer.from(bytes).toString('binary');
const toBytes = (node: Node): Uint8Array =>
  new Uint8Array(Buffer.from(asn1.toDer(node).getBytes(), 'binary'));
