/**
 * Signature verification and signing of compact JWS, through jose (which uses WebCrypto).
 *
 * jose is handed the segments that precheckCompactJws already proved canonical, so the bytes it verifies are
 * exactly the bytes received, and the allow-list it enforces is the one algorithm the precheck accepted.
 *
 * Key conversion: jose turns a KeyObject into a CryptoKey once per KeyObject instance and algorithm (a
 * WeakMap in jose's lib/key.js), so no cache is kept here. Measured one at a time (ES256, 1.4 KB payload, a
 * loaded 2-core machine): about 5,000 verifications a second with one KeyObject reused, about the same with a
 * CryptoKey, about 2,700 to 3,200 with a fresh KeyObject per call (parsing it and converting it cost more
 * than the verification's share). A content-keyed cache would not pay: exporting a key to look it up costs as
 * much as converting it. Callers that reuse a certificate's KeyObject (the chain cache does) get the fast
 * path. WebCrypto runs on libuv's thread pool, so concurrent verifications of a batch scale with its threads.
 */
import { KeyObject, type webcrypto } from 'node:crypto';
import { CompactSign, errors, flattenedVerify } from 'jose';
import type { ParsedCompactJws } from './compact-jws.ts';
import { plainRsaKeyForPs256 } from './rsa-pss-key.ts';
import type { SigningAlgorithm } from './types.ts';

type CryptoKey = webcrypto.CryptoKey;

/** What verification needs: the received segments and the algorithm the precheck allowed. */
export type VerifiableJws = Pick<
  ParsedCompactJws,
  'alg' | 'protectedSegment' | 'payloadSegment' | 'signatureSegment'
>;

export interface SigningHeader {
  alg: SigningAlgorithm;
  typ: string;
  /** Standard base64 DER, leaf first. */
  x5c: string[];
  kid: string;
}

/** The smallest RSA modulus jose accepts, and the profile's floor (docs/protocol.md). */
const MIN_RSA_BITS = 2048;

/**
 * True when the signature verifies. False when it does not, or when the key cannot make this algorithm's
 * signatures at all (an EC certificate behind a PS256 token, docs/threats.md 15): the signature cannot be valid
 * for that key. Throws only for what input cannot cause: a private key, a key without the verify usage, or an
 * unexpected failure inside jose.
 */
export async function verifyJwsSignature(jws: VerifiableJws, key: KeyObject | CryptoKey): Promise<boolean> {
  const usable = verificationKey(key, jws.alg);
  if (usable === undefined) return false;
  try {
    await flattenedVerify(
      { protected: jws.protectedSegment, payload: jws.payloadSegment, signature: jws.signatureSegment },
      usable,
      { algorithms: [jws.alg] },
    );
    return true;
  } catch (e) {
    // jose also raises this when WebCrypto throws on a malformed signature (e.g. wrong length).
    if (e instanceof errors.JWSSignatureVerificationFailed) return false;
    throw e;
  }
}

/**
 * The key in a form jose can use for `alg`, or undefined when it cannot make such signatures. Checked here
 * rather than by catching jose's errors: jose reports a key of the wrong kind with a plain TypeError or a
 * DOMException, which cannot be told apart from a bug by type.
 */
function verificationKey(
  key: KeyObject | CryptoKey,
  alg: SigningAlgorithm,
): KeyObject | CryptoKey | undefined {
  if (key instanceof KeyObject) {
    if (key.type !== 'public') throw new TypeError('signature verification needs a public key');
    const usable = key.asymmetricKeyType === 'rsa-pss' ? plainRsaKeyForPs256(key) : key;
    return usable !== undefined && keyObjectFits(usable, alg) ? usable : undefined;
  }
  if (key.type !== 'public' || !key.usages.includes('verify')) {
    throw new TypeError('signature verification needs a public CryptoKey with the verify usage');
  }
  return cryptoKeyFits(key, alg) ? key : undefined;
}

function keyObjectFits(key: KeyObject, alg: SigningAlgorithm): boolean {
  const details = key.asymmetricKeyDetails;
  switch (alg) {
    case 'ES256':
      return key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1';
    case 'EdDSA':
      return key.asymmetricKeyType === 'ed25519';
    case 'PS256':
      return key.asymmetricKeyType === 'rsa' && (details?.modulusLength ?? 0) >= MIN_RSA_BITS;
  }
}

function cryptoKeyFits(key: CryptoKey, alg: SigningAlgorithm): boolean {
  const algorithm: { name: string; namedCurve?: string; hash?: { name: string }; modulusLength?: number } =
    key.algorithm;
  switch (alg) {
    case 'ES256':
      return algorithm.name === 'ECDSA' && algorithm.namedCurve === 'P-256';
    case 'EdDSA':
      return algorithm.name === 'Ed25519';
    case 'PS256':
      return (
        algorithm.name === 'RSA-PSS' &&
        algorithm.hash?.name === 'SHA-256' &&
        (algorithm.modulusLength ?? 0) >= MIN_RSA_BITS
      );
  }
}

/**
 * Signs `payload` as a compact JWS. The header is rebuilt member by member so that nothing else a caller's
 * object carries can end up signed. An 'rsa-pss' key is used in its plain RSA form when it permits PS256.
 */
export async function signCompactJws(
  payload: Uint8Array,
  header: SigningHeader,
  key: KeyObject,
): Promise<string> {
  let signingKey = key;
  if (key.asymmetricKeyType === 'rsa-pss') {
    const plain = header.alg === 'PS256' ? plainRsaKeyForPs256(key) : undefined;
    if (plain === undefined)
      throw new TypeError(`this RSA-PSS key's restrictions do not permit ${header.alg}`);
    signingKey = plain;
  }
  return new CompactSign(payload)
    .setProtectedHeader({ alg: header.alg, typ: header.typ, x5c: [...header.x5c], kid: header.kid })
    .sign(signingKey);
}
