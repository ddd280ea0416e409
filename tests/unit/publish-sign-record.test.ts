/**
 * Records signed with the header encoded once per signer and node:crypto's signing on the thread pool: the
 * same header and payload segments as jose's CompactSign, a signature an independent verifier (jose) accepts
 * for each algorithm of the profile, and nothing but the header's four members signed.
 */
import { generateKeyPairSync, type KeyObject, verify } from 'node:crypto';
import { compactVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { sampleRecord } from '../../src/cli/samples.ts';
import type { Signer } from '../../src/config/types.ts';
import { RECORD_PROFILE } from '../../src/crypto/compact-jws.ts';
import { signCompactJws } from '../../src/crypto/jws-verify.ts';
import type { SigningAlgorithm } from '../../src/crypto/types.ts';
import { es256FromDer, signRecord } from '../../src/publishing/sign-record.ts';

function keys(alg: SigningAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  if (alg === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  if (alg === 'EdDSA') return generateKeyPairSync('ed25519');
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

describe('signRecord', () => {
  for (const alg of ['ES256', 'PS256', 'EdDSA'] as const) {
    it(`signs ${alg} records jose verifies, with jose's header and payload segments`, async () => {
      const { privateKey, publicKey } = keys(alg);
      const signer = {
        alg,
        key: privateKey,
        chain: [],
        x5c: ['MIIBfake', 'MIIBca'],
        kid: `kid-${alg}`,
      } as Signer;
      const records = Array.from({ length: 20 }, (_, i) => sampleRecord('PE', i));
      const signed = await Promise.all(records.map((r) => signRecord(r, signer)));
      for (const [i, jws] of signed.entries()) {
        const { payload, protectedHeader } = await compactVerify(jws, publicKey, { algorithms: [alg] });
        expect(JSON.parse(Buffer.from(payload).toString('utf8'))).toEqual(records[i]);
        expect(protectedHeader).toEqual({ alg, typ: RECORD_PROFILE.typ, x5c: signer.x5c, kid: signer.kid });
        const byJose = await signCompactJws(
          Buffer.from(JSON.stringify(records[i]), 'utf8'),
          { alg, typ: RECORD_PROFILE.typ, x5c: [...signer.x5c], kid: signer.kid },
          privateKey,
        );
        // Same signing input; ECDSA and PSS signatures are randomised, so only the input is compared.
        expect(jws.slice(0, jws.lastIndexOf('.'))).toBe(byJose.slice(0, byJose.lastIndexOf('.')));
      }
    });
  }

  it('signs only the four header members, whatever else the signer object carries', async () => {
    const { privateKey } = keys('ES256');
    const signer = Object.assign(
      { alg: 'ES256', key: privateKey, chain: [], x5c: ['MIIB'], kid: 'k' } as Signer,
      { crit: ['x'], jku: 'https://example.test/' },
    );
    const jws = await signRecord(sampleRecord('PE', 1), signer);
    const header = JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString('utf8')) as object;
    expect(Object.keys(header)).toEqual(['alg', 'typ', 'x5c', 'kid']);
  });

  it('rewrites DER ECDSA signatures as r||s: leading zero octets dropped, short integers left-padded', () => {
    const der = (r: Buffer, s: Buffer) =>
      Buffer.concat([
        Buffer.from([0x30, r.length + s.length + 4, 0x02, r.length]),
        r,
        Buffer.from([0x02, s.length]),
        s,
      ]);
    const high = Buffer.concat([Buffer.from([0x00]), Buffer.alloc(32, 0xa5)]);
    const short = Buffer.alloc(30, 0x11);
    expect(es256FromDer(der(high, short))).toEqual(
      Buffer.concat([Buffer.alloc(32, 0xa5), Buffer.alloc(2), Buffer.alloc(30, 0x11)]),
    );
    expect(es256FromDer(der(Buffer.from([0x00]), Buffer.from([0x01])))).toEqual(
      Buffer.concat([Buffer.alloc(32), Buffer.alloc(31), Buffer.from([0x01])]),
    );
    // An integer longer than P-256's is no ES256 signature: never truncated.
    expect(() => es256FromDer(der(Buffer.alloc(33, 0x7f), short))).toThrow(/longer than 32/);
    expect(() => es256FromDer(Buffer.concat([der(high, short), Buffer.from([0])]))).toThrow();
  });

  it('answers 64-byte r||s signatures for ES256, every one verifying, over many signatures', async () => {
    const { privateKey, publicKey } = keys('ES256');
    const signer = { alg: 'ES256', key: privateKey, chain: [], x5c: ['MIIB'], kid: 'k' } as Signer;
    const signed = await Promise.all(
      Array.from({ length: 300 }, (_, i) => signRecord(sampleRecord('PE', i), signer)),
    );
    for (const jws of signed) {
      const cut = jws.lastIndexOf('.');
      const signature = Buffer.from(jws.slice(cut + 1), 'base64url');
      expect(signature.length).toBe(64);
      const ok = verify(
        'sha256',
        Buffer.from(jws.slice(0, cut), 'latin1'),
        { key: publicKey, dsaEncoding: 'ieee-p1363' },
        signature,
      );
      expect(ok).toBe(true);
    }
  });
});
