/**
 * Signature verification and signing of compact JWS.
 *
 * Verification is node:crypto's, in the worker threads of the verification pool (verify-pool.ts), handed the
 * segments that precheckCompactJws already proved canonical: the bytes verified are exactly the bytes received
 * (`protected.payload` as latin1), and the algorithm is the one the precheck allowed, with its parameters fixed
 * as jose has them (RFC 7518; verify-worker.ts). A batch's signatures go to the pool together and come back as
 * one verdict each.
 *
 * Here, before anything is sent: whether the key can make this algorithm's signatures at all (curve, key type,
 * the RSA floor, an RSA-PSS key's own restrictions), judged once per key and algorithm and kept beside the key
 * (a WeakMap), and the length every signature of that key must have. A key that cannot make them, or a
 * signature of the wrong length, is false without a worker's help.
 *
 * Signing stays with jose: one receipt per batch, and its header rules (CompactSign) are jose's.
 */
import { KeyObject, type webcrypto } from 'node:crypto';
import { CompactSign } from 'jose';
import { decodeBase64urlStrict } from './base64url.ts';
import type { ParsedCompactJws } from './compact-jws.ts';
import { plainRsaKeyForPs256 } from './rsa-pss-key.ts';
import type { SigningAlgorithm } from './types.ts';
import { type PoolItem, verifyPool } from './verify-pool.ts';

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
 * for that key. Throws for what input cannot cause: a private key, a key without the verify usage; and rejects
 * with a retryable NOT_READY when a worker of the pool died holding the signature (never a verdict).
 */
export async function verifyJwsSignature(jws: VerifiableJws, key: KeyObject | CryptoKey): Promise<boolean> {
  const [verdict] = await verifyJwsSignatures([{ jws, key }]);
  return verdict === true;
}

/** verifyJwsSignature for many tokens at once: one verdict each, in order, from one round through the pool. */
export async function verifyJwsSignatures(
  tokens: readonly { jws: VerifiableJws; key: KeyObject | CryptoKey }[],
): Promise<boolean[]> {
  return verifyItems(
    tokens.map(({ jws, key }) => {
      const signature = decodeBase64urlStrict(jws.signatureSegment);
      if (signature === null) return undefined;
      return toItem(jws.alg, key, [jws.protectedSegment, jws.payloadSegment], signature);
    }),
  );
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
  const [verdict] = await verifyItems([toItem(alg, key, data, signature)]);
  return verdict === true;
}

/** Verifies the items that can verify; an undefined one is false. Nothing goes to the pool when none can. */
async function verifyItems(items: readonly (PoolItem | undefined)[]): Promise<boolean[]> {
  const sent = items.filter((item): item is PoolItem => item !== undefined);
  if (sent.length === 0) return items.map(() => false);
  const answers = await verifyPool().verify(sent);
  let next = 0;
  return items.map((item) => (item === undefined ? false : answers[next++] === true));
}

/** The pool's item, or undefined when the signature cannot verify whatever it signs. */
function toItem(
  alg: SigningAlgorithm,
  key: KeyObject | CryptoKey,
  data: PoolItem['data'],
  signature: Uint8Array,
): PoolItem | undefined {
  const usable = verificationKey(key, alg);
  if (usable === undefined) return undefined;
  // Every signature of the key has one length: anything else cannot verify (docs/threats.md 32), and OpenSSL
  // would read an RSA signature shorter than the modulus as if its leading zero bytes were there, giving one
  // signature more than one spelling (RFC 8017 §8.1.2 step 1 refuses it).
  if (signature.length !== usable.signatureLength) return undefined;
  return { alg, key: usable.key, data, signature };
}

/** A key fit for an algorithm, and the length in bytes of each of its signatures. */
interface UsableKey {
  key: KeyObject;
  signatureLength: number;
}

/** A P1363 signature of P-256 (r || s) and an Ed25519 signature, whatever they sign. */
const FIXED_SIGNATURE_LENGTH = 64;

/** Per certificate key and algorithm: the key it verifies with, or null when it cannot make them. */
const usableKeys = new WeakMap<KeyObject, Map<SigningAlgorithm, UsableKey | null>>();
/** A CryptoKey's KeyObject, for those that fit (jose's keys, in the Wycheproof harness and tests). */
const fromCryptoKeys = new WeakMap<CryptoKey, KeyObject>();

/**
 * The key as a public KeyObject fit for `alg` with its signatures' length, or undefined when it cannot make
 * such signatures. Checked here rather than by catching node:crypto's errors, which cannot tell a key of the
 * wrong kind from a bug by type.
 */
function verificationKey(key: KeyObject | CryptoKey, alg: SigningAlgorithm): UsableKey | undefined {
  if (key instanceof KeyObject) {
    if (key.type !== 'public') throw new TypeError('signature verification needs a public key');
    let byAlg = usableKeys.get(key);
    if (byAlg === undefined) {
      byAlg = new Map();
      usableKeys.set(key, byAlg);
    }
    let usable = byAlg.get(alg);
    if (usable === undefined) {
      const plain = key.asymmetricKeyType === 'rsa-pss' ? plainRsaKeyForPs256(key) : key;
      usable = plain !== undefined && keyObjectFits(plain, alg) ? usableKey(plain, alg) : null;
      byAlg.set(alg, usable);
    }
    return usable ?? undefined;
  }
  if (key.type !== 'public' || !key.usages.includes('verify')) {
    throw new TypeError('signature verification needs a public CryptoKey with the verify usage');
  }
  if (!cryptoKeyFits(key, alg)) return undefined;
  let converted = fromCryptoKeys.get(key);
  if (converted === undefined) {
    converted = KeyObject.from(key);
    fromCryptoKeys.set(key, converted);
  }
  // Judged again as a KeyObject: the same rules whichever form the key came in.
  return verificationKey(converted, alg);
}

/** An RSA signature is exactly as long as the modulus in bytes (RFC 8017 §8.1.1 step 3, §8.1.2 step 1). */
function usableKey(key: KeyObject, alg: SigningAlgorithm): UsableKey {
  if (alg !== 'PS256') return { key, signatureLength: FIXED_SIGNATURE_LENGTH };
  return { key, signatureLength: Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8) };
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
