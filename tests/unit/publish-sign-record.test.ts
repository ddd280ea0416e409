/**
 * Records signed with the header encoded once per signer and node:crypto's signing on the thread pool: the
 * same header and payload segments as jose's CompactSign, a signature an independent verifier (jose) accepts
 * for each algorithm of the profile, and nothing but the header's four members signed.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { compactVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { sampleRecord } from '../../src/cli/samples.ts';
import type { Signer } from '../../src/config/types.ts';
import { RECORD_PROFILE } from '../../src/crypto/compact-jws.ts';
import { signCompactJws } from '../../src/crypto/jws-verify.ts';
import type { SigningAlgorithm } from '../../src/crypto/types.ts';
import { signRecord } from '../../src/publishing/sign-record.ts';

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
});
