import { describe, expect, it } from 'vitest';
import { toPem } from '../../src/crypto/cert-builder.ts';
import { parseCertificate } from '../../src/crypto/certificate.ts';
import { validateChain } from '../../src/crypto/chain.ts';
import { check, expectFailure } from '../support/chain-assert.ts';
import {
  days,
  type KeySpec,
  makePki,
  NOW,
  trustStoreOf,
  UNKNOWN_EXTENSION_OID,
  unknownExtension,
} from '../support/pki.ts';
import * as bad from '../support/pki-cases.ts';

describe('docs/threats.md D: untrusted chains', () => {
  it('23: a self-signed leaf', () => {
    expectFailure(
      check(bad.selfSignedLeaf()),
      'CERT_UNTRUSTED',
      /^x5c\[0\] does not chain to a trust anchor of PE$/,
    );
  });

  it('24: a root with the anchor subject name but another key, sent in x5c', () => {
    const pki = bad.sameNameRootOtherKey(true);
    expect(parseCertificate(pki.rootDer).x509.subject).toBe(pki.anchors[0]!.x509.subject);
    expectFailure(check(pki), 'CERT_UNTRUSTED', /^x5c\[1\] does not chain to a trust anchor of PE$/);
  });

  it('24: a leaf naming the anchor as issuer, signed by another key', () => {
    expectFailure(check(bad.sameNameRootOtherKey(false)), 'CERT_UNTRUSTED', /^x5c\[0\] does not chain/);
  });

  it.each([
    ['absent', /^x5c\[1\] is not a CA \(has no basicConstraints\)$/],
    ['false', /^x5c\[1\] is not a CA \(basicConstraints cA is not TRUE\)$/],
  ] as const)('25: leaf issued by an end-entity certificate (basicConstraints %s)', (kind, detail) => {
    const pki = bad.endEntityIssuer(kind);
    // node alone would take this issuer: that is why the gateway checks basicConstraints itself.
    const leaf = parseCertificate(pki.leafDer).x509;
    const issuer = parseCertificate(pki.intermediateDer!);
    expect(leaf.checkIssued(issuer.x509) && leaf.verify(issuer.publicKey)).toBe(true);
    expectFailure(check(pki), 'CERT_UNTRUSTED', detail);
  });

  it('25: an anchor that is not a CA, or a CA without keyCertSign', () => {
    const ee = makePki({ root: { basicConstraints: 'absent', keyUsage: 'absent' } });
    expectFailure(
      check(ee),
      'CERT_UNTRUSTED',
      /^trust anchor 0 of PE is not a CA \(has no basicConstraints\)$/,
    );
    const noCertSign = makePki({ root: { keyUsage: ['digitalSignature'] } });
    expectFailure(check(noCertSign), 'CERT_UNTRUSTED', /^trust anchor 0 of PE .*keyCertSign/);
    const intermediate = makePki({ intermediate: { keyUsage: ['cRLSign'] } });
    expectFailure(
      check(intermediate),
      'CERT_UNTRUSTED',
      /^x5c\[1\] is a CA whose keyUsage does not allow keyCertSign$/,
    );
  });

  it.each([
    ['absent', /^x5c\[0\] has no keyUsage extension$/],
    ['other', /^x5c\[0\] keyUsage does not allow digitalSignature$/],
  ] as const)('27: leaf without digitalSignature (keyUsage %s)', (kind, detail) => {
    expectFailure(check(bad.leafWithoutDigitalSignature(kind)), 'CERT_UNTRUSTED', detail);
  });

  it.each<[KeySpec, RegExp]>([
    ['rsa1024', /^x5c\[0\] has an RSA key of 1024 bits/],
    ['rsa8192public', /^x5c\[0\] has an RSA key of 8192 bits \(2048 to 4096 allowed\)$/],
    ['rsa2048e3', /^x5c\[0\] has an RSA key with public exponent 3 /],
    ['rsa2048e1', /^x5c\[0\] has an RSA key with public exponent 1 /],
    ['p384', /^x5c\[0\] has an EC key on secp384r1/],
    ['p521', /^x5c\[0\] has an EC key on secp521r1/],
    ['secp256k1', /^x5c\[0\] has an EC key on secp256k1/],
    ['ed448', /^x5c\[0\] has a key of type ed448/],
  ])('28: leaf key %s', (key, detail) => {
    expectFailure(check(bad.weakLeafKey(key)), 'CERT_UNTRUSTED', detail);
  });

  it('28: weak keys higher up name the certificate that holds them', () => {
    expectFailure(
      check(makePki({ intermediate: { key: 'rsa1024' } })),
      'CERT_UNTRUSTED',
      /^x5c\[1\] has an RSA key/,
    );
    expectFailure(
      check(makePki({ root: { key: 'rsa1024' } })),
      'CERT_UNTRUSTED',
      /^trust anchor 0 of PE has an RSA key/,
    );
  });

  it('29: four certificates, rejected before any parsing', () => {
    expectFailure(
      check(bad.fourCertificates()),
      'CERT_UNTRUSTED',
      /^x5c holds 4 certificates, at most 3 allowed$/,
    );
  });

  it('29: out of order', () => {
    expectFailure(check(bad.outOfOrder()), 'CERT_UNTRUSTED', /^x5c\[0\] is not issued by x5c\[1\]/);
  });

  it('29: repeated certificates', () => {
    expectFailure(check(bad.repeated()), 'CERT_UNTRUSTED', /^x5c\[2\] repeats x5c\[1\]$/);
    const pki = makePki();
    expectFailure(
      validateChain([pki.leafDer, pki.leafDer], trustStoreOf(pki.anchors), NOW),
      'CERT_UNTRUSTED',
      /^x5c\[1\] repeats x5c\[0\]$/,
    );
  });

  it('29: a 1 MiB certificate is rejected by size, in bounded time', () => {
    const huge = new Uint8Array(1024 * 1024);
    huge.set([0x30, 0x83, 0x0f, 0xff, 0xfc]);
    const started = performance.now();
    const result = validateChain([huge], trustStoreOf(makePki().anchors), NOW);
    expect(performance.now() - started).toBeLessThan(20);
    expectFailure(result, 'CERT_UNTRUSTED', /^x5c\[0\] is 1048576 bytes, at most 8192 allowed$/);
  });

  it('29: PEM, base64url text, trailing bytes or junk instead of DER', () => {
    const pki = makePki();
    const store = trustStoreOf(pki.anchors);
    const text = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
    const withTrailer = new Uint8Array([...pki.leafDer, 0x00]);
    for (const der of [
      text(toPem(pki.leafDer)),
      text(Buffer.from(pki.leafDer).toString('base64url')),
      withTrailer,
      Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01),
    ]) {
      expectFailure(
        validateChain([der], store, NOW),
        'CERT_UNTRUSTED',
        /^x5c\[0\] is not a well-formed DER certificate/,
      );
    }
  });

  it('29: no certificate, or something that is not bytes', () => {
    const store = trustStoreOf(makePki().anchors);
    expectFailure(validateChain([], store, NOW), 'CERT_UNTRUSTED', /^x5c holds no certificate$/);
    const notBytes = ['MIIB'] as unknown as Uint8Array[];
    expectFailure(validateChain(notBytes, store, NOW), 'CERT_UNTRUSTED', /^x5c\[0\] is not DER bytes$/);
  });

  it.each([
    ['sha1', /^x5c\[0\] is signed with sha1WithRSAEncryption, which is refused$/],
    ['md5', /^x5c\[0\] is signed with md5WithRSAEncryption, which is refused$/],
  ] as const)('30: leaf signed with %s', (hash, detail) => {
    expectFailure(check(bad.weakSignature(hash)), 'CERT_UNTRUSTED', detail);
  });

  it('30: ECDSA with SHA-1, RSASSA-PSS over SHA-1, a SHA-1 intermediate', () => {
    expectFailure(
      check(makePki({ leaf: { signatureHash: 'sha1' } })),
      'CERT_UNTRUSTED',
      /^x5c\[0\] .*ecdsa-with-SHA1/,
    );
    const pss = makePki({ root: { key: 'rsa2048' }, leaf: { rsaPadding: 'pss', signatureHash: 'sha1' } });
    expectFailure(check(pss), 'CERT_UNTRUSTED', /^x5c\[0\] is signed with RSASSA-PSS over sha1/);
    const int = makePki({ intermediate: { signatureHash: 'sha1' } });
    expectFailure(check(int), 'CERT_UNTRUSTED', /^x5c\[1\] is signed with ecdsa-with-SHA1/);
  });

  it('30: an unknown critical extension, on the leaf or the intermediate', () => {
    const detail = (i: number) =>
      new RegExp(`^x5c\\[${i}\\] has an unknown critical extension ${UNKNOWN_EXTENSION_OID}$`);
    expectFailure(check(bad.unknownCriticalExtension()), 'CERT_UNTRUSTED', detail(0));
    const int = makePki({ intermediate: { extraExtensions: [unknownExtension(true)] } });
    expectFailure(check(int), 'CERT_UNTRUSTED', detail(1));
  });

  it('31: a revoked leaf or intermediate; other revocations do not matter', () => {
    const pki = makePki({ intermediate: {} });
    const revoked = (der: Uint8Array) => trustStoreOf(pki.anchors, { revoked: [der] });
    expectFailure(check(pki, NOW, revoked(pki.leafDer)), 'CERT_UNTRUSTED', /^x5c\[0\] is revoked by PE: /);
    expectFailure(
      check(pki, NOW, revoked(pki.intermediateDer!)),
      'CERT_UNTRUSTED',
      /^x5c\[1\] is revoked by PE: /,
    );
    expect(check(pki, NOW, revoked(makePki().leafDer)).ok).toBe(true);
  });
});

describe('docs/threats.md D 26: out of validity', () => {
  it.each([
    ['leaf', 'expired', /^x5c\[0\] expired at 2026-05-31T12:00:00.000Z$/],
    ['leaf', 'notYetValid', /^x5c\[0\] is not valid before 2026-06-02T12:00:00.000Z$/],
    ['intermediate', 'expired', /^x5c\[1\] expired at/],
    ['intermediate', 'notYetValid', /^x5c\[1\] is not valid before/],
  ] as const)('%s %s', (which, when, detail) => {
    expectFailure(check(bad.outOfValidity(which, when)), 'CERT_EXPIRED', detail);
  });

  it('an expired anchor, even when x5c is in date', () => {
    const pki = makePki({ root: { notBefore: days(-400), notAfter: days(-1) } });
    expectFailure(check(pki), 'CERT_EXPIRED', /^trust anchor 0 of PE expired at/);
  });

  it('untrusted wins over expired: the structural rules are checked first', () => {
    const expired = { notBefore: days(-60), notAfter: days(-1) };
    expectFailure(check(makePki({ leaf: { ...expired, signatureHash: 'sha1' } })), 'CERT_UNTRUSTED', /sha1/i);
    expectFailure(check(makePki({ leaf: { ...expired, key: 'rsa1024' } })), 'CERT_UNTRUSTED', /1024/);
    const revoked = makePki({ leaf: expired });
    expectFailure(
      check(revoked, NOW, trustStoreOf(revoked.anchors, { revoked: [revoked.leafDer] })),
      'CERT_UNTRUSTED',
      /revoked/,
    );
    const foreign = makePki({ root: { keyRole: 'impostor' }, leaf: expired });
    expectFailure(check(foreign, NOW, trustStoreOf(makePki().anchors)), 'CERT_UNTRUSTED', /does not chain/);
  });
});
