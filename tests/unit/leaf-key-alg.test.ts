import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildCertificate } from '../../src/crypto/cert-builder.ts';
import { parseCertificate } from '../../src/crypto/certificate.ts';
import { leafKeyMatchesAlg } from '../../src/crypto/chain.ts';
import type { SigningAlgorithm } from '../../src/crypto/types.ts';
import { type KeySpec, keyPair, makePki, NOW } from '../support/pki.ts';

const leafWith = (key: KeySpec) => parseCertificate(makePki({ leaf: { key } }).leafDer);

describe('leafKeyMatchesAlg', () => {
  it.each<[KeySpec, SigningAlgorithm[]]>([
    ['p256', ['ES256']],
    ['ed25519', ['EdDSA']],
    ['rsa2048', ['PS256']],
    ['rsapss2048', ['PS256']],
    ['p384', []],
    ['ed448', []],
  ])('a %s leaf fits exactly %o', (key, fits) => {
    const leaf = leafWith(key);
    for (const alg of ['ES256', 'EdDSA', 'PS256'] as const) {
      expect(leafKeyMatchesAlg(leaf, alg)).toBe(fits.includes(alg));
    }
  });

  it('refuses PS256 for an RSA-PSS key bound to SHA-512 (docs/threats.md 15: PS512 key, PS256 token)', () => {
    const pss512 = generateKeyPairSync('rsa-pss', { modulusLength: 2048, hashAlgorithm: 'sha512' });
    const issuer = keyPair('p256', 'root');
    const leaf = parseCertificate(
      buildCertificate({
        subjectPublicKey: pss512.publicKey,
        issuerPrivateKey: issuer.privateKey,
        subject: { commonName: 'pss512' },
        issuer: { commonName: 'root' },
        notBefore: NOW,
        notAfter: NOW,
      }),
    );
    expect(leaf.publicKey.asymmetricKeyDetails?.hashAlgorithm).toBe('sha512');
    expect(leafKeyMatchesAlg(leaf, 'PS256')).toBe(false);
  });

  it('refuses an algorithm outside the profile', () => {
    expect(leafKeyMatchesAlg(leafWith('p256'), 'ES384' as SigningAlgorithm)).toBe(false);
  });
});
