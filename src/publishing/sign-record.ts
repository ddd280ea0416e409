/**
 * Signs AEO status records, each as its own compact JWS (docs/protocol.md, signing profile).
 *
 * The protected header is the same for every record a key signs, so its segment is encoded once per signer;
 * only the payload is encoded per record. Signing is node:crypto's, called with a callback, so each signature
 * is made on libuv's thread pool and the records of a set are signed side by side on every pool thread; the
 * main thread only hands them over. The parameters are RFC 7518's, as verification uses them
 * (src/crypto/jws-verify.ts): ES256 as P1363 r||s over SHA-256, PS256 with MGF1-SHA-256 and a 32-byte salt,
 * EdDSA over Ed25519.
 */
import { constants, type KeyObject, sign } from 'node:crypto';
import type { Signer } from '../config/types.ts';
import { RECORD_PROFILE } from '../crypto/compact-jws.ts';
import { plainRsaKeyForPs256 } from '../crypto/rsa-pss-key.ts';
import type { SigningAlgorithm } from '../crypto/types.ts';
import type { AeoStatusRecord } from '../protocol/record.ts';

const DIGEST: Readonly<Record<SigningAlgorithm, string | null>> = {
  ES256: 'sha256',
  PS256: 'sha256',
  EdDSA: null,
};
const PARAMETERS: Readonly<Record<SigningAlgorithm, object>> = {
  ES256: { dsaEncoding: 'ieee-p1363' },
  PS256: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
  EdDSA: {},
};

interface Prepared {
  /** base64url of the protected header, and the '.' after it. */
  head: string;
  key: KeyObject;
}

const prepared = new WeakMap<Signer, Prepared>();

function prepare(signer: Signer): Prepared {
  let p = prepared.get(signer);
  if (p !== undefined) return p;
  // Member by member, so that nothing else the signer object carries can end up signed.
  const header = { alg: signer.alg, typ: RECORD_PROFILE.typ, x5c: [...signer.x5c], kid: signer.kid };
  let key = signer.key;
  if (key.asymmetricKeyType === 'rsa-pss') {
    const plain = signer.alg === 'PS256' ? plainRsaKeyForPs256(key) : undefined;
    if (plain === undefined)
      throw new TypeError(`this RSA-PSS key's restrictions do not permit ${signer.alg}`);
    key = plain;
  }
  p = { head: `${Buffer.from(JSON.stringify(header), 'utf8').toString('base64url')}.`, key };
  prepared.set(signer, p);
  return p;
}

export function signRecord(record: AeoStatusRecord, signer: Signer): Promise<string> {
  const { head, key } = prepare(signer);
  const input = head + Buffer.from(JSON.stringify(record), 'utf8').toString('base64url');
  return new Promise((resolve, reject) => {
    sign(
      DIGEST[signer.alg],
      Buffer.from(input, 'latin1'),
      { key, ...PARAMETERS[signer.alg] },
      (error, signature) => {
        if (error) reject(error);
        else resolve(`${input}.${signature.toString('base64url')}`);
      },
    );
  });
}
