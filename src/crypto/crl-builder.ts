/**
 * Makes certificate revocation lists (RFC 5280 §5) for set-up and tests. The issuer Name is given as the exact
 * DER of the issuing CA's subject, so that the list names its issuer byte for byte. Signatures by node:crypto.
 */
import { type KeyObject, sign } from 'node:crypto';
import type { ExtraExtension } from './cert-builder.ts';

export interface RevokedEntry {
  /** A bigint or hex digits. */
  serial: bigint | string;
  revokedAt?: Date | undefined;
  extensions?: readonly ExtraExtension[] | undefined;
}

export interface CrlOptions {
  /** DER of the issuer Name: the issuing CA certificate's subject (ParsedCertificate.subjectDer). */
  issuerName: Uint8Array;
  issuerPrivateKey: KeyObject;
  thisUpdate: Date;
  /** null leaves nextUpdate out (not conforming; exists for tests). */
  nextUpdate: Date | null;
  revoked?: readonly RevokedEntry[] | undefined;
  /** crlExtensions; a cRLNumber of 1 when omitted. */
  extensions?: readonly ExtraExtension[] | undefined;
  /** For ECDSA and RSA issuers; Ed25519 ignores it. */
  hash?: 'sha256' | 'sha384' | 'sha512' | 'sha1' | undefined;
}

const ECDSA: Record<string, string> = {
  sha1: '1.2.840.10045.4.1',
  sha256: '1.2.840.10045.4.3.2',
  sha384: '1.2.840.10045.4.3.3',
  sha512: '1.2.840.10045.4.3.4',
};
const RSA: Record<string, string> = {
  sha1: '1.2.840.113549.1.1.5',
  sha256: '1.2.840.113549.1.1.11',
  sha384: '1.2.840.113549.1.1.12',
  sha512: '1.2.840.113549.1.1.13',
};
export const CRL_NUMBER_OID = '2.5.29.20';

export function buildCrl(opts: CrlOptions): Uint8Array {
  const key = opts.issuerPrivateKey;
  const hash = opts.hash ?? 'sha256';
  let algorithm: Uint8Array;
  let signer: (tbs: Uint8Array) => Uint8Array;
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      algorithm = seq(oid('1.3.101.112'));
      signer = (tbs) => sign(null, tbs, key);
      break;
    case 'ec':
      algorithm = seq(oid(ECDSA[hash]!));
      signer = (tbs) => sign(hash, tbs, { key, dsaEncoding: 'der' });
      break;
    case 'rsa':
      algorithm = seq(oid(RSA[hash]!), tlv(0x05, new Uint8Array(0)));
      signer = (tbs) => sign(hash, tbs, key);
      break;
    default:
      throw new Error(`cannot sign a CRL with a ${key.asymmetricKeyType} key`);
  }
  const entries = (opts.revoked ?? []).map((e) =>
    seq(
      integer(typeof e.serial === 'bigint' ? e.serial : BigInt(`0x${e.serial}`)),
      time(e.revokedAt ?? opts.thisUpdate),
      ...(e.extensions && e.extensions.length > 0 ? [seq(...e.extensions.map(extension))] : []),
    ),
  );
  const extensions = opts.extensions ?? [{ oid: CRL_NUMBER_OID, critical: false, valueDer: integer(1n) }];
  const tbs = seq(
    integer(1n),
    algorithm,
    opts.issuerName,
    time(opts.thisUpdate),
    ...(opts.nextUpdate === null ? [] : [time(opts.nextUpdate)]),
    ...(entries.length > 0 ? [seq(...entries)] : []),
    ...(extensions.length > 0 ? [tlv(0xa0, seq(...extensions.map(extension)))] : []),
  );
  return seq(tbs, algorithm, tlv(0x03, concat(Uint8Array.of(0), signer(tbs))));
}

function extension(e: ExtraExtension): Uint8Array {
  return seq(oid(e.oid), ...(e.critical ? [tlv(0x01, Uint8Array.of(0xff))] : []), tlv(0x04, e.valueDer));
}

export function tlv(tag: number, value: Uint8Array): Uint8Array {
  const n = value.length;
  let length: number[];
  if (n < 0x80) length = [n];
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    length = [0x80 | bytes.length, ...bytes];
  }
  return concat(Uint8Array.of(tag, ...length), value);
}

const seq = (...items: Uint8Array[]): Uint8Array => tlv(0x30, concat(...items));

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

export function integer(n: bigint): Uint8Array {
  let hex = n.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (Number.parseInt(hex.slice(0, 2), 16) & 0x80) hex = `00${hex}`;
  return tlv(0x02, new Uint8Array(Buffer.from(hex, 'hex')));
}

function oid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(BigInt);
  const out: number[] = [];
  const push = (v: bigint) => {
    const bytes = [Number(v & 0x7fn)];
    for (let r = v >> 7n; r > 0n; r >>= 7n) bytes.unshift(Number(r & 0x7fn) | 0x80);
    out.push(...bytes);
  };
  push(arcs[0]! * 40n + arcs[1]!);
  for (const arc of arcs.slice(2)) push(arc);
  return tlv(0x06, Uint8Array.from(out));
}

/** UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §5.1.2.4). */
function time(date: Date): Uint8Array {
  const iso = date.toISOString();
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const year = date.getUTCFullYear();
  return year >= 1950 && year < 2050
    ? tlv(0x17, Buffer.from(digits.slice(2), 'latin1'))
    : tlv(0x18, Buffer.from(digits, 'latin1'));
}
