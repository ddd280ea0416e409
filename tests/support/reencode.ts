/**
 * Re-encodings of a certificate that every parser still accepts, for docs/threats.md 70: the same content (and so
 * the same issuer, serial and key) under other bytes, hence another fingerprint.
 */
import { tlv } from '../../src/crypto/crl-builder.ts';
import { children, decodeBitString, decodeDer, expectTag, sequence, TAG } from '../../src/crypto/der.ts';
import { P256_N } from './forge.ts';

/** The certificate with its ECDSA P-256 signature (r, s) replaced by the equally valid (r, n − s). */
export function withHighSTwin(der: Uint8Array): Uint8Array {
  const [tbs, alg, sigValue] = sequence(decodeDer(der), 'Certificate');
  const bits = decodeBitString(expectTag(sigValue, TAG.BIT_STRING, 'signatureValue'));
  const [r, s] = children(decodeDer(bits.bytes));
  const sValue = BigInt(`0x${Buffer.from(s!.value).toString('hex')}`);
  const twin = tlv(TAG.SEQUENCE, Buffer.concat([r!.raw, integer(P256_N - sValue)]));
  const signature = tlv(TAG.BIT_STRING, Buffer.concat([Uint8Array.of(0), twin]));
  return tlv(TAG.SEQUENCE, Buffer.concat([tbs!.raw, alg!.raw, signature]));
}

function integer(n: bigint): Uint8Array {
  let hex = n.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (Number.parseInt(hex.slice(0, 2), 16) & 0x80) hex = `00${hex}`;
  return tlv(TAG.INTEGER, Buffer.from(hex, 'hex'));
}
