/**
 * Strict base64 and base64url for untrusted token segments and `x5c` entries.
 *
 * Node's decoders are lenient: they skip white space and stray characters, accept padding in base64url and
 * ignore the unused low bits of the last character, so several strings decode to the same bytes. A signed
 * token must have exactly one spelling (PROTOCOL.md, "Signing profile"), so every input is proved canonical
 * before Buffer decodes it: a regex over the alphabet, then the length and the last character's spare bits.
 */

const BASE64URL_ALPHABET = /^[A-Za-z0-9_-]*$/;
const BASE64_BODY = /^[A-Za-z0-9+/]*$/;

/** 6-bit value of each ASCII code in the standard and the url alphabet; -1 elsewhere. */
const SEXTET = new Int8Array(128).fill(-1);
const COMMON_62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
for (let i = 0; i < COMMON_62.length; i++) SEXTET[COMMON_62.charCodeAt(i)] = i;
SEXTET[0x2b] = 62; // '+'
SEXTET[0x2f] = 63; // '/'
SEXTET[0x2d] = 62; // '-'
SEXTET[0x5f] = 63; // '_'

/**
 * With n leftover characters in the last quantum (2 or 3), the last one carries 4 or 2 bits that encode no
 * data; a canonical encoder leaves them zero.
 */
function lastCharIsCanonical(s: string, end: number, leftover: number): boolean {
  if (leftover === 0) return true;
  const value = SEXTET[s.charCodeAt(end - 1)] ?? -1;
  const spareBitsMask = leftover === 2 ? 0x0f : 0x03;
  return value >= 0 && (value & spareBitsMask) === 0;
}

/**
 * Buffer.from may return a view on Node's shared allocation pool; a fresh Uint8Array keeps the rest of that
 * pool out of reach of anyone who later reads `.buffer`.
 */
function ownBytes(buf: Buffer): Uint8Array {
  return new Uint8Array(buf);
}

/**
 * Decodes unpadded base64url (RFC 7515 §2) only if `s` is the one canonical encoding of its bytes; null
 * otherwise. The empty string is the encoding of zero bytes.
 */
export function decodeBase64urlStrict(s: string): Uint8Array | null {
  const leftover = s.length % 4;
  if (leftover === 1) return null;
  if (!BASE64URL_ALPHABET.test(s)) return null;
  if (!lastCharIsCanonical(s, s.length, leftover)) return null;
  return ownBytes(Buffer.from(s, 'base64url'));
}

export function encodeBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/**
 * Decodes standard base64 with its required padding (the `x5c` encoding, RFC 7515 §4.1.6) only if `s` is
 * canonical: no url alphabet, no white space or line breaks (so no PEM armour), padding exactly as long as
 * the last quantum needs, spare bits zero. Null otherwise.
 */
export function decodeBase64Strict(s: string): Uint8Array | null {
  if (s.length % 4 !== 0) return null;
  let end = s.length;
  if (end > 0 && s.charCodeAt(end - 1) === 0x3d) end--;
  if (end > 0 && s.charCodeAt(end - 1) === 0x3d) end--;
  const padding = s.length - end;
  // Two '=' leave 2 data characters in the last quantum, one '=' leaves 3; a third '=' fails the body regex.
  const leftover = padding === 0 ? 0 : 4 - padding;
  if (!BASE64_BODY.test(end === s.length ? s : s.slice(0, end))) return null;
  if (!lastCharIsCanonical(s, end, leftover)) return null;
  return ownBytes(Buffer.from(s, 'base64'));
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
