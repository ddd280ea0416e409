/**
 * One key per X.500 Name however it is spelled, for revocation by issuer and serial. A certificate's issuer
 * field may spell its CA's name otherwise than the CA's own subject (another letter case, other spaces, a
 * PrintableString where the CA wrote UTF8String), and chain building links the two all the same: OpenSSL
 * compares names as RFC 5280 §7.1 does. A CRL names its issuer as the CA's subject, so revocation must compare
 * names the same way, or such a certificate would chain to its CA and escape every CRL of it.
 *
 * The key folds more than OpenSSL does (any letter case, any white space), never less: two names that only this
 * key joins are still different CAs to chain building, so the looser fold can only revoke, never let through.
 */
import { children, type DerElement, DerError, decodeDer, decodeOid } from './der.ts';

/** Directory string types, and how their octets read as text. */
const STRING_TYPES: Readonly<Record<number, (v: Uint8Array) => string>> = {
  12: (v) => Buffer.from(v).toString('utf8'), // UTF8String
  19: latin1, // PrintableString
  20: latin1, // TeletexString, read as Latin-1 like OpenSSL does
  22: latin1, // IA5String
  26: latin1, // VisibleString
  28: utf32be, // UniversalString
  30: utf16be, // BMPString
};

/**
 * The comparison key of a Name given as its DER. A Name that cannot be read is keyed by its bytes: both sides
 * of a comparison then need the very same bytes, as before.
 */
export function nameKey(nameDer: Uint8Array): string {
  try {
    const rdns = children(decodeDer(nameDer)).map((rdn) => children(rdn).map(attributeKey).sort().join('+'));
    return `name:${rdns.join(',')}`;
  } catch (error) {
    if (!(error instanceof DerError)) throw error;
    return `der:${Buffer.from(nameDer).toString('hex')}`;
  }
}

function attributeKey(atv: DerElement): string {
  const [type, value, ...extra] = children(atv);
  if (type === undefined || value === undefined || extra.length > 0) {
    throw new DerError('AttributeTypeAndValue is not a type and a value');
  }
  const oid = decodeOid(type);
  const read = STRING_TYPES[value.tag];
  if (read === undefined) return `${oid}=#${Buffer.from(value.raw).toString('hex')}`;
  const text = read(value.value).trim().replace(/\s+/g, ' ').toLowerCase();
  // JSON quoting keeps ',', '+' and '=' inside a value from reading as separators.
  return `${oid}=${JSON.stringify(text)}`;
}

function latin1(v: Uint8Array): string {
  return Buffer.from(v).toString('latin1');
}

function utf16be(v: Uint8Array): string {
  if (v.length % 2 !== 0) throw new DerError('BMPString of an odd length');
  return Buffer.from(v).swap16().toString('utf16le');
}

function utf32be(v: Uint8Array): string {
  if (v.length % 4 !== 0) throw new DerError('UniversalString length is not a multiple of 4');
  let text = '';
  for (let i = 0; i < v.length; i += 4) {
    const cp = ((v[i]! << 24) | (v[i + 1]! << 16) | (v[i + 2]! << 8) | v[i + 3]!) >>> 0;
    if (cp > 0x10ffff) throw new DerError('UniversalString holds no Unicode character');
    text += String.fromCodePoint(cp);
  }
  return text;
}
