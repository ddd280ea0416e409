/**
 * Signature verification and signing of compact JWS.
 *
 * Verification is WebCrypto's, handed the segments that precheckCompactJws already proved canonical: the bytes
 * verified are exactly the bytes received (`protected.payload` as ASCII), and the algorithm is the one the
 * precheck allowed, with its parameters fixed here as jose has them (RFC 7518: ES256 as P1363 r||s over
 * SHA-256, PS256 with MGF1-SHA-256 and a 32-byte salt, EdDSA over Ed25519). Each verification runs on libuv's
 * thread pool, so a batch's verifications, started together, run side by side on every pool thread.
 *
 * Called directly rather than through jose's flattenedVerify, which decoded the segments again, copied the
 * signing input and parsed the header a second time for each record. The key is converted to a CryptoKey once
 * per KeyObject and algorithm and kept beside it (a WeakMap). Measured on a batch's judging (main thread, per
 * record): about what jose cost, within the spread of a shared machine; node:crypto's one-shot verify with a
 * callback, tried in its place, cost about a third more.
 *
 * Signing stays with jose: one receipt per batch, and its header rules (CompactSign) are jose's.
 */
import { KeyObject, type webcrypto } from 'node:crypto';
import { CompactSign } from 'jose';
import { decodeBase64urlStrict } from './base64url.ts';
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

/** The profile's floor for RSA moduli (docs/protocol.md). */
const MIN_RSA_BITS = 2048;

/**
 * True when the signature verifies. False when it does not, or when the key cannot make this algorithm's
 * signatures at all (an EC certificate behind a PS256 token, docs/threats.md 15): the signature cannot be valid
 * for that key. Throws only for what input cannot cause: a private key, a key without the verify usage, or an
 * unexpected failure inside node:crypto.
 */
export async function verifyJwsSignature(jws: VerifiableJws, key: KeyObject | CryptoKey): Promise<boolean> {
  const signature = decodeBase64urlStrict(jws.signatureSegment);
  if (signature === null) return false;
  const data = Buffer.from(`${jws.protectedSegment}.${jws.payloadSegment}`, 'latin1');
  return verifySignatureBytes(jws.alg, key, data, signature);
}

/**
 * The signature check itself, on bytes: what verifyJwsSignature does once it has the signing input and the
 * decoded signature (and what the raw Wycheproof sets go through, tests/unit/signature-vectors.test.ts).
 */
export async function verifySignatureBytes(
  alg: SigningAlgorithm,
  key: KeyObject | CryptoKey,
  data: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  const usable = verificationKey(key, alg);
  if (usable === undefined) return false;
  // A P1363 signature of P-256 or an Ed25519 signature is 64 bytes whatever it signs; anything else cannot
  // verify (docs/threats.md 32).
  if (alg !== 'PS256' && signature.length !== FIXED_SIGNATURE_LENGTH) return false;
  try {
    return await crypto.subtle.verify(WEBCRYPTO[alg].verify, usable, signature, data);
  } catch {
    // WebCrypto throws on some malformed signatures rather than answering false (as jose also treated it).
    return false;
  }
}

const FIXED_SIGNATURE_LENGTH = 64;

/** What WebCrypto needs for each algorithm: the key's import parameters and the verification's. */
type ImportParams = Parameters<KeyObject['toCryptoKey']>[0];
type VerifyParams = Parameters<typeof crypto.subtle.verify>[0];
const WEBCRYPTO: Readonly<Record<SigningAlgorithm, { key: ImportParams; verify: VerifyParams }>> = {
  ES256: { key: { name: 'ECDSA', namedCurve: 'P-256' }, verify: { name: 'ECDSA', hash: 'SHA-256' } },
  EdDSA: { key: { name: 'Ed25519' }, verify: { name: 'Ed25519' } },
  // RFC 7518 §3.5: the salt is the size of the SHA-256 output, exactly; MGF1 takes the signature's digest.
  PS256: { key: { name: 'RSA-PSS', hash: 'SHA-256' }, verify: { name: 'RSA-PSS', saltLength: 32 } },
};

/** Per certificate key and algorithm: the CryptoKey it verifies with, or null when it cannot make them. */
const cryptoKeys = new WeakMap<KeyObject, Map<SigningAlgorithm, CryptoKey | null>>();

/**
 * The key as a CryptoKey fit for `alg`, or undefined when it cannot make such signatures. Checked here rather
 * than by catching WebCrypto's errors, which cannot tell a key of the wrong kind from a bug by type.
 */
function verificationKey(key: KeyObject | CryptoKey, alg: SigningAlgorithm): CryptoKey | undefined {
  if (key instanceof KeyObject) {
    if (key.type !== 'public') throw new TypeError('signature verification needs a public key');
    let byAlg = cryptoKeys.get(key);
    if (byAlg === undefined) {
      byAlg = new Map();
      cryptoKeys.set(key, byAlg);
    }
    let converted = byAlg.get(alg);
    if (converted === undefined) {
      const usable = key.asymmetricKeyType === 'rsa-pss' ? plainRsaKeyForPs256(key) : key;
      converted =
        usable !== undefined && keyObjectFits(usable, alg)
          ? usable.toCryptoKey(WEBCRYPTO[alg].key, false, ['verify'])
          : null;
      byAlg.set(alg, converted);
    }
    return converted ?? undefined;
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
