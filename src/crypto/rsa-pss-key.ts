/**
 * WebCrypto, and so jose, refuses RSA keys encoded as id-RSASSA-PSS ("Invalid key type"), while the
 * certificate profile and the configuration accept them for PS256. Such a key is the same RSA key with usage
 * restrictions attached; when those restrictions allow PS256 exactly (SHA-256, MGF1 with SHA-256, a minimum
 * salt length of at most 32), the plain rsaEncryption form of the same key signs and verifies the very same
 * PS256 signatures. This module makes that form, once per key.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { decodeBitString, decodeDer, expectTag, sequence, TAG } from './der.ts';

/** The salt length of PS256 (RFC 7518 §3.5: the size of the SHA-256 output). */
const PS256_SALT_LENGTH = 32;
const converted = new WeakMap<KeyObject, KeyObject>();

/** True when an 'rsa-pss' key's own restrictions permit PS256 signatures. */
export function rsaPssKeyAllowsPs256(key: KeyObject): boolean {
  if (key.asymmetricKeyType !== 'rsa-pss') return false;
  const details = key.asymmetricKeyDetails ?? {};
  return (
    (details.hashAlgorithm ?? 'sha256') === 'sha256' &&
    (details.mgf1HashAlgorithm ?? 'sha256') === 'sha256' &&
    (details.saltLength ?? 0) <= PS256_SALT_LENGTH
  );
}

/**
 * The rsaEncryption form of an 'rsa-pss' key that permits PS256; undefined for one that does not. Keys come
 * from the gateway's own configuration or from a certificate the chain check has parsed, never from raw
 * input.
 */
export function plainRsaKeyForPs256(key: KeyObject): KeyObject | undefined {
  if (!rsaPssKeyAllowsPs256(key)) return undefined;
  let plain = converted.get(key);
  if (plain === undefined) {
    plain = key.type === 'private' ? convertPrivate(key) : convertPublic(key);
    converted.set(key, plain);
  }
  return plain;
}

/** SubjectPublicKeyInfo ::= SEQUENCE { algorithm, subjectPublicKey BIT STRING (an RSAPublicKey) }. */
function convertPublic(key: KeyObject): KeyObject {
  const spki = sequence(decodeDer(key.export({ format: 'der', type: 'spki' })), 'SubjectPublicKeyInfo');
  const rsaPublicKey = decodeBitString(expectTag(spki[1], TAG.BIT_STRING, 'subjectPublicKey')).bytes;
  return createPublicKey({ key: Buffer.from(rsaPublicKey), format: 'der', type: 'pkcs1' });
}

/** PrivateKeyInfo ::= SEQUENCE { version, algorithm, privateKey OCTET STRING (an RSAPrivateKey), ... }. */
function convertPrivate(key: KeyObject): KeyObject {
  const pkcs8 = sequence(decodeDer(key.export({ format: 'der', type: 'pkcs8' })), 'PrivateKeyInfo');
  const rsaPrivateKey = expectTag(pkcs8[2], TAG.OCTET_STRING, 'privateKey').value;
  return createPrivateKey({ key: Buffer.from(rsaPrivateKey), format: 'der', type: 'pkcs1' });
}
