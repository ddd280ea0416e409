/**
 * docs/threats.md 72, one level up: extKeyUsage in a CA certificate limits what the certificates under it are for
 * (as TLS stacks read it). An issuing CA or root limited to TLS issues no certificate that signs records,
 * receipts or request tokens; one limited to serverAuth issues no TLS client certificate.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildCertificate } from '../../src/crypto/cert-builder.ts';
import { validateChain } from '../../src/crypto/chain.ts';
import type { ChainPurpose } from '../../src/crypto/types.ts';
import { expectFailure } from '../support/chain-assert.ts';
import { days, makePki, NOW, type PkiSpec, ROOT_NAME, trustStoreOf } from '../support/pki.ts';

function run(spec: PkiSpec, purpose: ChainPurpose) {
  const pki = makePki({ intermediate: {}, ...spec });
  return validateChain(pki.chainDer, trustStoreOf(pki.anchors), NOW, purpose);
}
const CLIENT_LEAF = { extKeyUsage: ['clientAuth'] };

describe('a signing leaf', () => {
  it('under an issuing CA limited to TLS purposes is refused', () => {
    for (const eku of [['serverAuth'], ['clientAuth'], ['serverAuth', 'clientAuth']]) {
      expectFailure(
        run({ intermediate: { extKeyUsage: eku } }, 'signing'),
        'CERT_UNTRUSTED',
        /x5c\[1\].*TLS/,
      );
    }
  });

  it('under a root limited to TLS purposes is refused', () => {
    expectFailure(
      run({ root: { extKeyUsage: ['serverAuth', 'clientAuth'] } }, 'signing'),
      'CERT_UNTRUSTED',
      /trust anchor 0 of PE.*TLS/,
    );
  });

  it('under CAs whose extKeyUsage names another purpose too, or none, is accepted', () => {
    expect(run({ intermediate: { extKeyUsage: ['clientAuth', 'emailProtection'] } }, 'signing').ok).toBe(
      true,
    );
    expect(run({ intermediate: { extKeyUsage: ['2.5.29.37.0'] } }, 'signing').ok).toBe(true);
    expect(run({}, 'signing').ok).toBe(true);
  });
});

describe('a TLS client leaf', () => {
  it('under an issuing CA limited to serverAuth, or to signing purposes, is refused', () => {
    for (const eku of [['serverAuth'], ['emailProtection']]) {
      expectFailure(
        run({ intermediate: { extKeyUsage: eku }, leaf: CLIENT_LEAF }, 'tls-client'),
        'CERT_UNTRUSTED',
        /x5c\[1\].*clientAuth/,
      );
    }
  });

  it('under an issuing CA allowing clientAuth, or any purpose, is accepted', () => {
    for (const eku of [['clientAuth'], ['serverAuth', 'clientAuth'], ['2.5.29.37.0']]) {
      expect(run({ intermediate: { extKeyUsage: eku }, leaf: CLIENT_LEAF }, 'tls-client').ok).toBe(true);
    }
  });
});

describe('a pinned root sent in x5c', () => {
  it('is judged by the configured certificate, not by a copy without its extKeyUsage', () => {
    const pki = makePki({ intermediate: {}, root: { extKeyUsage: ['serverAuth'] } });
    const rootKey = createPublicKey(pki.rootKey);
    // Anyone can write the anchor's key into a certificate of their own: this one is signed by another key.
    const copy = buildCertificate({
      subjectPublicKey: rootKey,
      issuerPrivateKey: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey,
      subject: ROOT_NAME,
      issuer: ROOT_NAME,
      notBefore: days(-365),
      notAfter: days(3650),
      basicConstraints: { ca: true },
      keyUsage: ['keyCertSign', 'cRLSign'],
    });
    expectFailure(
      validateChain([...pki.chainDer, copy], trustStoreOf(pki.anchors), NOW, 'signing'),
      'CERT_UNTRUSTED',
      /trust anchor 0 of PE.*TLS/,
    );
  });
});
