import { describe, expect, it } from 'vitest';
import { parseCertificate } from '../../src/crypto/certificate.ts';
import { validateChain } from '../../src/crypto/chain.ts';
import { check, expectFailure } from '../support/chain-assert.ts';
import {
  days,
  LEAF_DEFAULTS,
  makeCert,
  makePki,
  NOW,
  ROOT_DEFAULTS,
  trustStoreOf,
  unknownExtension,
} from '../support/pki.ts';
import * as bad from '../support/pki-cases.ts';

describe('chains the profile accepts', () => {
  it('root to leaf, root not sent: returns the parsed leaf and the store anchor', () => {
    const pki = makePki();
    const result = check(pki);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.leaf.fingerprint).toBe(parseCertificate(pki.leafDer).fingerprint);
    expect(result.anchor).toBe(pki.anchors[0]);
    expect(result.chain).toHaveLength(1);
  });

  it('with an intermediate, with and without the root in x5c', () => {
    expect(check(makePki({ intermediate: {} })).ok).toBe(true);
    const sent = makePki({ intermediate: {}, sendRoot: true });
    const result = check(sent);
    expect(result.ok && result.anchor).toBe(sent.anchors[0]);
  });

  it.each<[string, Parameters<typeof makePki>[0]]>([
    [
      'Ed25519 throughout',
      { root: { key: 'ed25519' }, intermediate: { key: 'ed25519' }, leaf: { key: 'ed25519' } },
    ],
    ['RSA 2048 root, PKCS#1 v1.5 SHA-256', { root: { key: 'rsa2048' }, leaf: { key: 'rsa2048' } }],
    ['RSASSA-PSS SHA-256 signature', { root: { key: 'rsa2048' }, leaf: { rsaPadding: 'pss' } }],
    ['RSA-PSS keys', { root: { key: 'rsapss2048' }, leaf: { key: 'rsapss2048' } }],
    ['RSA 4096 leaf', { leaf: { key: 'rsa4096' } }],
    [
      'ECDSA with SHA-384 and SHA-512',
      { intermediate: { signatureHash: 'sha384' }, leaf: { signatureHash: 'sha512' } },
    ],
    ['an unknown extension that is not critical', { leaf: { extraExtensions: [unknownExtension(false)] } }],
  ])('%s', (_name, spec) => {
    const result = check(makePki(spec));
    expect(result.ok ? 'ok' : result.detail).toBe('ok');
  });

  it('is valid at exactly notBefore and notAfter, and judged at `at`, not the clock', () => {
    const pki = makePki({ leaf: { notBefore: days(-1), notAfter: days(1) } });
    expect(check(pki, days(-1)).ok).toBe(true);
    expect(check(pki, days(1)).ok).toBe(true);
    expectFailure(check(pki, new Date(days(1).getTime() + 1000)), 'CERT_EXPIRED', /^x5c\[0\] expired at/);
  });

  it('matches an anchor by key: a reissued root with the same key is the same anchor', () => {
    const old = makePki({ intermediate: {}, sendRoot: true });
    const reissued = makePki({ root: { notBefore: days(-10), notAfter: days(7000) } });
    expect(reissued.anchors[0]!.fingerprint).not.toBe(old.anchors[0]!.fingerprint);
    const result = check(old, NOW, trustStoreOf(reissued.anchors));
    expect(result.ok && result.anchor).toBe(reissued.anchors[0]);
  });

  it('accepts an intermediate configured as the anchor, sent or not', () => {
    const pki = makePki({ intermediate: {} });
    const store = trustStoreOf([parseCertificate(pki.intermediateDer!)]);
    expect(check(pki, NOW, store).ok).toBe(true);
    expect(validateChain([pki.leafDer], store, NOW).ok).toBe(true);
  });

  it('tries every anchor of the store', () => {
    const other = bad.sameNameRootOtherKey(true);
    const pki = makePki();
    const store = trustStoreOf([parseCertificate(other.rootDer), ...pki.anchors]);
    expect(check(pki, NOW, store).ok).toBe(true);
  });
});

describe('links between certificates', () => {
  it('a signature that does not verify, with names that match', () => {
    const pki = makePki({ intermediate: {} });
    const tampered = new Uint8Array(pki.leafDer);
    tampered[tampered.length - 1]! ^= 0x01;
    const result = validateChain([tampered, pki.intermediateDer!], trustStoreOf(pki.anchors), NOW);
    expectFailure(result, 'CERT_UNTRUSTED', /^x5c\[0\] signature does not verify with the key of x5c\[1\]$/);
    // Directly under the anchor, the anchor's key is the only way in: a bad signature finds no anchor.
    const direct = makePki();
    const tamperedDirect = new Uint8Array(direct.leafDer);
    tamperedDirect[tamperedDirect.length - 1]! ^= 0x01;
    expectFailure(
      validateChain([tamperedDirect], trustStoreOf(direct.anchors), NOW),
      'CERT_UNTRUSTED',
      /^x5c\[0\] does not chain to a trust anchor of PE$/,
    );
  });

  it('a store without anchors trusts nothing', () => {
    expectFailure(
      check(makePki(), NOW, trustStoreOf([])),
      'CERT_UNTRUSTED',
      /^x5c\[0\] does not chain to a trust anchor of PE$/,
    );
  });

  it('pathLenConstraint of an issuer is enforced, on the anchor or in x5c', () => {
    const spec = { root: { basicConstraints: { ca: true, pathLen: 0 } }, intermediate: {} };
    expectFailure(
      check(makePki(spec)),
      'CERT_UNTRUSTED',
      /^trust anchor 0 of PE allows 0 CA certificates below it/,
    );
    expectFailure(
      check(makePki({ ...spec, sendRoot: true })),
      'CERT_UNTRUSTED',
      /^x5c\[2\] allows 0 CA certificates/,
    );
    expect(
      check(makePki({ root: { basicConstraints: { ca: true, pathLen: 1 } }, intermediate: {} })).ok,
    ).toBe(true);
  });

  it('an anchor pinned by key must itself be a CA when it stands above the leaf', () => {
    // The partner pinned an end-entity key; an attacker cannot sign with it, but can wrap it in a CA certificate
    // of his own making. The configured certificate, not that wrapper, decides.
    const configured = makeCert({ keyRole: 'pinned', basicConstraints: 'absent' }, ROOT_DEFAULTS, undefined);
    const wrapper = makeCert({ keyRole: 'pinned', notAfter: days(9000) }, ROOT_DEFAULTS, undefined);
    const leaf = makeCert({}, LEAF_DEFAULTS, { name: wrapper.name, privateKey: wrapper.key.privateKey });
    const store = trustStoreOf([parseCertificate(configured.der)]);
    const result = validateChain([leaf.der, wrapper.der], store, NOW);
    expectFailure(result, 'CERT_UNTRUSTED', /^trust anchor 0 of PE is not a CA \(has no basicConstraints\)$/);
    // The same configured certificate is a fine anchor for itself alone (a pinned signing certificate).
    const alone = makeCert(
      { keyRole: 'pinned', basicConstraints: 'absent', keyUsage: ['digitalSignature'] },
      ROOT_DEFAULTS,
      undefined,
    );
    expect(validateChain([alone.der], trustStoreOf([parseCertificate(alone.der)]), NOW).ok).toBe(true);
  });
});
