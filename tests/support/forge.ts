/**
 * Hand-made compact JWS for the bad cases of docs/threats.md B to E: the header and payload are exactly the bytes
 * given (a string is taken as its UTF-8 text, so duplicate members, odd spacing and BOMs survive), and the
 * signing input is signed with node:crypto, never through jose, so a malformed token is malformed exactly
 * as the test means it.
 */
import { constants, createHash, createHmac, type KeyObject, sign } from 'node:crypto';

export type ForgeAlg = 'ES256' | 'EdDSA' | 'PS256' | 'HS256' | 'none';
/** A JSON value to serialise, or the exact text (UTF-8) or bytes of one. */
export type JsonBytes = object | string | Uint8Array;

/** P-256 group order n. */
export const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

export function b64u(data: Uint8Array | string): string {
  return Buffer.from(typeof data === 'string' ? Buffer.from(data, 'utf8') : data).toString('base64url');
}

function bytesOf(value: JsonBytes): Uint8Array {
  if (value instanceof Uint8Array) return value;
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
}

/**
 * Signs `input` (the signing input; UTF-8, which only matters for an unencoded RFC 7797 payload) the way a JWS
 * of `alg` is signed; raw R||S for ECDSA.
 */
export function signInput(alg: ForgeAlg, key: KeyObject | Uint8Array | undefined, input: string): Uint8Array {
  const data = Buffer.from(input, 'utf8');
  if (alg === 'none') return new Uint8Array(0);
  if (alg === 'HS256') {
    if (!(key instanceof Uint8Array)) throw new Error('HS256 needs the MAC key bytes');
    return createHmac('sha256', key).update(data).digest();
  }
  if (key === undefined || key instanceof Uint8Array) throw new Error(`${alg} needs a private KeyObject`);
  switch (alg) {
    case 'ES256':
      return sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
    case 'EdDSA':
      return sign(null, data, key);
    case 'PS256':
      return sign('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  }
}

export interface ForgeOptions {
  header: JsonBytes;
  payload: JsonBytes;
  /** How the signing input is signed; defaults to the header's `alg` when it is one of ForgeAlg. */
  signAs?: ForgeAlg;
  key?: KeyObject | Uint8Array;
  /** Replaces the computed signature. */
  signature?: Uint8Array;
}

export function forgeJws(o: ForgeOptions): string {
  const h = b64u(bytesOf(o.header));
  const p = b64u(bytesOf(o.payload));
  const headerAlg =
    typeof o.header === 'object' && !(o.header instanceof Uint8Array)
      ? (o.header as { alg?: unknown }).alg
      : undefined;
  const alg = o.signAs ?? (headerAlg as ForgeAlg | undefined) ?? 'ES256';
  const signature = o.signature ?? signInput(alg, o.key, `${h}.${p}`);
  return `${h}.${p}.${b64u(signature)}`;
}

/** What a signing header needs from a chain: standard base64 DER, leaf first, and the leaf's thumbprint. */
export function chainHeader(
  chainDer: readonly Uint8Array[],
  alg: ForgeAlg = 'ES256',
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    alg,
    typ: 'aeo-status+jws',
    x5c: chainDer.map((d) => Buffer.from(d).toString('base64')),
    kid: createHash('sha256').update(chainDer[0]!).digest('base64url'),
    ...extra,
  };
}

/** The header a Signer of the configuration would write, plus or minus members. */
export function signerHeader(
  signer: { alg: string; x5c: readonly string[]; kid: string },
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { alg: signer.alg, typ: 'aeo-status+jws', x5c: [...signer.x5c], kid: signer.kid, ...extra };
}

/** The three segments of a compact JWS. */
export function segments(jws: string): [string, string, string] {
  const [h = '', p = '', s = ''] = jws.split('.');
  return [h, p, s];
}

/** The (r, n - s) twin of an ES256 signature: the same signature by ECDSA's rules, other bytes. */
export function highSTwin(jws: string): string {
  const [h, p, s] = segments(jws);
  const sig = Buffer.from(s, 'base64url');
  const r = sig.subarray(0, 32);
  const sValue = BigInt(`0x${sig.subarray(32).toString('hex')}`);
  const twin = Buffer.from((P256_N - sValue).toString(16).padStart(64, '0'), 'hex');
  return `${h}.${p}.${b64u(Buffer.concat([r, twin]))}`;
}
