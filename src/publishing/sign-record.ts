/**
 * Signs AEO status records, each as its own compact JWS (docs/protocol.md, signing profile).
 *
 * The protected header is the same for every record a key signs, so its segment is encoded once per signer;
 * only the payload is encoded per record. Signing is node:crypto's, called with a callback, so each signature
 * is made on libuv's thread pool and the records of a set are signed side by side on every pool thread; the
 * main thread only hands them over. The parameters are RFC 7518's, as verification uses them
 * (src/crypto/jws-verify.ts): ES256 as P1363 r||s over SHA-256, PS256 with MGF1-SHA-256 and a 32-byte salt,
 * EdDSA over Ed25519.
 *
 * ES256 and EdDSA keys are handed to node:crypto as the KeyObject itself. Given an options object instead
 * (`{ key, dsaEncoding }`), node:crypto first probes whether that object is itself a key, and each probe
 * throws and catches an error internally: two captured stack traces a signature, about two thirds of the main
 * thread's cost of handing it over (14 against 5 µs, measured). ES256 then comes back DER-encoded, and is
 * rewritten as r||s here.
 */
import { constants, type KeyObject, sign } from 'node:crypto';
import type { Signer } from '../config/types.ts';
import { RECORD_PROFILE } from '../crypto/compact-jws.ts';
import { DerError, decodeDer, expectTag, sequence, TAG } from '../crypto/der.ts';
import { plainRsaKeyForPs256 } from '../crypto/rsa-pss-key.ts';
import type { SigningAlgorithm } from '../crypto/types.ts';
import type { AeoStatusRecord } from '../protocol/record.ts';

const DIGEST: Readonly<Record<SigningAlgorithm, string | null>> = {
  ES256: 'sha256',
  PS256: 'sha256',
  EdDSA: null,
};
/** The length of each of r and s in an ES256 signature. */
const P256_INTEGER = 32;

/** An ECDSA signature as DER (SEQUENCE of two INTEGERs) → r||s, each left-padded to 32 bytes (RFC 7518 3.4). */
export function es256FromDer(der: Uint8Array): Buffer {
  const [r, s, ...rest] = sequence(decodeDer(der), 'ECDSA signature');
  if (rest.length > 0) throw new DerError('ECDSA signature: more than two integers');
  const out = Buffer.alloc(2 * P256_INTEGER);
  for (const [i, el] of [r, s].entries()) {
    let v = expectTag(el, TAG.INTEGER, i === 0 ? 'r' : 's').value;
    while (v.length > 1 && v[0] === 0) v = v.subarray(1);
    if (v.length > P256_INTEGER) throw new DerError('ECDSA signature: an integer longer than 32 bytes');
    out.set(v, (i + 1) * P256_INTEGER - v.length);
  }
  return out;
}

interface Prepared {
  /** base64url of the protected header, and the '.' after it. */
  head: string;
  /** What node:crypto's sign is given as its key: the KeyObject, or an options object around it. */
  key: KeyObject | { key: KeyObject; padding: number; saltLength: number };
  /** The signature as node:crypto answers it → as the JWS carries it. */
  finish: (signature: Buffer) => Buffer;
}

const asIs = (signature: Buffer) => signature;

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
  const head = `${Buffer.from(JSON.stringify(header), 'utf8').toString('base64url')}.`;
  p =
    signer.alg === 'PS256'
      ? { head, key: { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, finish: asIs }
      : { head, key, finish: signer.alg === 'ES256' ? es256FromDer : asIs };
  prepared.set(signer, p);
  return p;
}

/**
 * A record's compact JWS in two texts, `head + rest`: the protected header's segment and its dot, the same
 * text for every record a key signs (so a set's records can be stored and hashed without copying it again for
 * each), and the payload and signature segments.
 */
export interface SignedJws {
  head: string;
  rest: string;
}

export function signRecordParts(record: AeoStatusRecord, signer: Signer): Promise<SignedJws> {
  const { head, key, finish } = prepare(signer);
  const payload = Buffer.from(JSON.stringify(record), 'utf8').toString('base64url');
  return new Promise((resolve, reject) => {
    sign(DIGEST[signer.alg], Buffer.from(head + payload, 'latin1'), key, (error, signature) => {
      if (error) reject(error);
      else {
        try {
          resolve({ head, rest: `${payload}.${finish(signature).toString('base64url')}` });
        } catch (e) {
          reject(e);
        }
      }
    });
  });
}

export async function signRecord(record: AeoStatusRecord, signer: Signer): Promise<string> {
  const { head, rest } = await signRecordParts(record, signer);
  return head + rest;
}
