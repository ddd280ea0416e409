import { createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { encodeBase64url } from '../../src/crypto/base64url.ts';
import { type PrecheckedJws, precheckCompactJws, RECORD_PROFILE } from '../../src/crypto/compact-jws.ts';
import { signCompactJws, verifyJwsSignature } from '../../src/crypto/jws-verify.ts';
import type { SigningAlgorithm } from '../../src/crypto/types.ts';
import { b64url, FAKE_KID, FAKE_X5C } from '../support/jws.ts';

const PAYLOAD = new TextEncoder().encode('{"schema":"aeo-status/1","version":1}');
const P256_ORDER = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');

const keys = {
  ES256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  EdDSA: generateKeyPairSync('ed25519'),
  PS256: generateKeyPairSync('rsa', { modulusLength: 2048 }),
} satisfies Record<SigningAlgorithm, { publicKey: KeyObject; privateKey: KeyObject }>;

async function signed(
  alg: SigningAlgorithm,
  privateKey: KeyObject = keys[alg].privateKey,
): Promise<PrecheckedJws> {
  const token = await signCompactJws(
    PAYLOAD,
    { alg, typ: 'aeo-status+jws', x5c: FAKE_X5C, kid: FAKE_KID },
    privateKey,
  );
  const result = precheckCompactJws(token, RECORD_PROFILE);
  if (!result.ok) throw new Error(result.detail);
  return result;
}

function withSignature(jws: PrecheckedJws, signature: Uint8Array): PrecheckedJws {
  return { ...jws, signature, signatureSegment: encodeBase64url(signature) };
}

function p1363(r: bigint, s: bigint): Uint8Array {
  const hex = r.toString(16).padStart(64, '0') + s.toString(16).padStart(64, '0');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

describe('signCompactJws and verifyJwsSignature', () => {
  it.each(['ES256', 'EdDSA', 'PS256'] as const)(
    '%s: a signed token passes the record precheck and verifies',
    async (alg) => {
      const jws = await signed(alg);
      expect(jws.header).toEqual({ alg, typ: 'aeo-status+jws', x5c: FAKE_X5C, kid: FAKE_KID });
      expect(await verifyJwsSignature(jws, keys[alg].publicKey)).toBe(true);
    },
  );

  it('signs only alg, typ, x5c and kid, whatever else the header object carries', async () => {
    const header = {
      alg: 'ES256',
      typ: 'aeo-status+jws',
      x5c: FAKE_X5C,
      kid: FAKE_KID,
      jku: 'http://x/',
    } as const;
    const token = await signCompactJws(PAYLOAD, header, keys.ES256.privateKey);
    expect(Object.keys(JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()))).toEqual([
      'alg',
      'typ',
      'x5c',
      'kid',
    ]);
  });

  it.each(['ES256', 'EdDSA', 'PS256'] as const)(
    '%s: one changed payload or header byte → false',
    async (alg) => {
      const jws = await signed(alg);
      // '1' → '2' in the version: still canonical base64url, one payload byte changed.
      const payload = b64url(
        new TextDecoder().decode(jws.payloadBytes).replace('"version":1', '"version":2'),
      );
      expect(payload).not.toBe(jws.payloadSegment);
      expect(await verifyJwsSignature({ ...jws, payloadSegment: payload }, keys[alg].publicKey)).toBe(false);
      const header = b64url(JSON.stringify({ ...jws.header, typ: 'aeo-receipt+jws' }));
      expect(await verifyJwsSignature({ ...jws, protectedSegment: header }, keys[alg].publicKey)).toBe(false);
    },
  );

  it.each(['ES256', 'EdDSA', 'PS256'] as const)('%s: another key of the same type → false', async (alg) => {
    const jws = await signed(alg);
    const other =
      alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : alg === 'EdDSA'
          ? generateKeyPairSync('ed25519')
          : generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(await verifyJwsSignature(jws, other.publicKey)).toBe(false);
  });

  it('accepts the CryptoKey jose would make from the same key', async () => {
    const jws = await signed('ES256');
    const cryptoKey = await keys.ES256.publicKey.toCryptoKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'verify',
    ]);
    expect(await verifyJwsSignature(jws, cryptoKey)).toBe(true);
  });

  it('throws for what no input can cause: a private key', async () => {
    const jws = await signed('ES256');
    await expect(verifyJwsSignature(jws, keys.ES256.privateKey)).rejects.toThrow(TypeError);
  });
});

describe('docs/threats.md 15: alg that does not match the key → false (SIGNATURE_INVALID)', () => {
  it('an EC key behind a PS256 or EdDSA token, an RSA key behind ES256, an Ed25519 key behind ES256', async () => {
    const ps = await signed('PS256');
    const es = await signed('ES256');
    const ed = await signed('EdDSA');
    expect(await verifyJwsSignature(ps, keys.ES256.publicKey)).toBe(false);
    expect(await verifyJwsSignature(ed, keys.ES256.publicKey)).toBe(false);
    expect(await verifyJwsSignature(es, keys.PS256.publicKey)).toBe(false);
    expect(await verifyJwsSignature(es, keys.EdDSA.publicKey)).toBe(false);
  });

  it('a P-384 key behind ES256, and RSA-1024 behind PS256', async () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(await verifyJwsSignature(await signed('ES256'), p384.publicKey)).toBe(false);
    const jws = await signed('PS256');
    expect(await verifyJwsSignature(jws, rsa1024.publicKey)).toBe(false);
  });

  it('a key bound to PS512 behind a PS256 token, however the signature was made', async () => {
    const jws = await signed('PS256');
    const jwk = keys.PS256.publicKey.export({ format: 'jwk' });
    const ps512 = await importJWK({ ...jwk, alg: 'PS512' });
    if (ps512 instanceof Uint8Array) throw new Error('expected a CryptoKey');
    expect(await verifyJwsSignature(jws, ps512)).toBe(false);
  });
});

describe('RSA keys encoded as id-RSASSA-PSS (accepted by the certificate profile for PS256)', () => {
  const pss256 = generateKeyPairSync('rsa-pss', {
    modulusLength: 2048,
    hashAlgorithm: 'sha256',
    mgf1HashAlgorithm: 'sha256',
  });
  const unrestricted = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
  const pss512 = generateKeyPairSync('rsa-pss', { modulusLength: 2048, hashAlgorithm: 'sha512' });

  it('sign and verify PS256 when the key permits it', async () => {
    for (const pair of [pss256, unrestricted]) {
      const jws = await signed('PS256', pair.privateKey);
      expect(await verifyJwsSignature(jws, pair.publicKey)).toBe(true);
      expect(await verifyJwsSignature(await signed('PS256'), pair.publicKey)).toBe(false);
    }
  });

  it('verify a PS256 signature that node:crypto made with the restricted key itself', async () => {
    const jws = await signed('PS256', pss256.privateKey);
    const signingInput = `${jws.protectedSegment}.${jws.payloadSegment}`;
    const signature = sign('sha256', Buffer.from(signingInput), pss256.privateKey);
    expect(await verifyJwsSignature(withSignature(jws, signature), pss256.publicKey)).toBe(true);
  });

  it('refuse a key bound to SHA-512: false to verify, an error to sign with', async () => {
    expect(await verifyJwsSignature(await signed('PS256'), pss512.publicKey)).toBe(false);
    await expect(signed('PS256', pss512.privateKey)).rejects.toThrow(TypeError);
    await expect(signed('ES256', pss256.privateKey)).rejects.toThrow(TypeError);
  });
});

describe('docs/threats.md 32: malformed ECDSA signatures → false (SIGNATURE_INVALID)', () => {
  const n = P256_ORDER;
  const edge = { '0': 0n, '1': 1n, 'n-1': n - 1n, n: n };
  for (const [rName, r] of Object.entries(edge)) {
    for (const [sName, s] of Object.entries(edge)) {
      it(`r = ${rName}, s = ${sName}`, async () => {
        const jws = await signed('ES256');
        expect(await verifyJwsSignature(withSignature(jws, p1363(r, s)), keys.ES256.publicKey)).toBe(false);
      });
    }
  }

  it('the DER encoding of a valid signature instead of the raw one', async () => {
    const jws = await signed('ES256');
    const der = sign(
      'sha256',
      Buffer.from(`${jws.protectedSegment}.${jws.payloadSegment}`),
      keys.ES256.privateKey,
    );
    expect(der.length).not.toBe(64);
    expect(await verifyJwsSignature(withSignature(jws, der), keys.ES256.publicKey)).toBe(false);
  });

  it('63 or 65 bytes: a valid signature cut short or with a byte added', async () => {
    const jws = await signed('ES256');
    expect(await verifyJwsSignature(jws, keys.ES256.publicKey)).toBe(true);
    const short = jws.signature.subarray(0, 63);
    const long = new Uint8Array([...jws.signature, 0]);
    const padded = new Uint8Array([0, ...jws.signature]);
    for (const signature of [short, long, padded, new Uint8Array(0)]) {
      expect(await verifyJwsSignature(withSignature(jws, signature), keys.ES256.publicKey)).toBe(false);
    }
  });

  it('(r, n - s) is the other valid signature of the same message (why duplicates compare payloads)', async () => {
    const jws = await signed('ES256');
    const r = BigInt(`0x${Buffer.from(jws.signature.subarray(0, 32)).toString('hex')}`);
    const s = BigInt(`0x${Buffer.from(jws.signature.subarray(32)).toString('hex')}`);
    expect(await verifyJwsSignature(withSignature(jws, p1363(r, n - s)), keys.ES256.publicKey)).toBe(true);
  });

  it('a public key read back from its SPKI verifies like the original', async () => {
    const jws = await signed('ES256');
    const der = keys.ES256.publicKey.export({ format: 'der', type: 'spki' });
    expect(await verifyJwsSignature(jws, createPublicKey({ key: der, format: 'der', type: 'spki' }))).toBe(
      true,
    );
  });
});

describe('docs/threats.md 32: a PS256 signature not exactly as long as the modulus → false', () => {
  /** A valid PS256 token whose signature starts with a zero byte: PSS is randomised, so about 1 in 256. */
  async function signedWithLeadingZero(): Promise<PrecheckedJws> {
    for (let attempt = 0; attempt < 4096; attempt++) {
      const jws = await signed('PS256');
      if (jws.signature[0] === 0) return jws;
    }
    throw new Error('no PS256 signature with a leading zero byte in 4096 attempts');
  }

  it('the valid 256-byte signature verifies; left-trimmed of its zero byte, or with one added, it does not', async () => {
    const jws = await signedWithLeadingZero();
    expect(jws.signature.length).toBe(256);
    expect(await verifyJwsSignature(jws, keys.PS256.publicKey)).toBe(true);
    const trimmed = jws.signature.subarray(1);
    const padded = new Uint8Array([0, ...jws.signature]);
    for (const signature of [trimmed, padded]) {
      expect(await verifyJwsSignature(withSignature(jws, signature), keys.PS256.publicKey)).toBe(false);
    }
  });

  it('the same for an RSA key encoded as id-RSASSA-PSS, whose length comes from its plain form', async () => {
    const pss = generateKeyPairSync('rsa-pss', {
      modulusLength: 2048,
      hashAlgorithm: 'sha256',
      mgf1HashAlgorithm: 'sha256',
    });
    const jws = await signed('PS256', pss.privateKey);
    expect(await verifyJwsSignature(jws, pss.publicKey)).toBe(true);
    const short = jws.signature.subarray(1);
    expect(await verifyJwsSignature(withSignature(jws, short), pss.publicKey)).toBe(false);
  });
});
