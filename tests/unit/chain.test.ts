import { describe, expect, it } from 'vitest';
import { toPem } from '../../src/crypto/cert-builder.ts';
import { parseCertificate } from '../../src/crypto/certificate.ts';
import { validateChain } from '../../src/crypto/chain.ts';
import type { CheckResult } from '../../src/crypto/types.ts';
import type { RecordRejectionCode } from '../../src/errors.ts';
import {
  days,
  type KeySpec,
  makePki,
  NOW,
  type TestPki,
  trustStoreOf,
  UNKNOWN_EXTENSION_OID,
  unknownExtension,
} from '../support/pki.ts';
import * as bad from '../support/pki-cases.ts';

function check(pki: TestPki, at = NOW, store = trustStoreOf(pki.anchors)) {
  return validateChain(pki.chainDer, store, at);
}

function expectFailure(result: CheckResult<unknown>, code: RecordRejectionCode, detail: RegExp): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.code).toBe(code);
  expect(result.detail).toMatch(detail);
}

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

describe('THREATS.md D: untrusted chains', () => {
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
    expectFailure(check(pki, NOW, revoked(pki.leafDer)), 'CERT_UNTRUSTED', /^x5c\[0\] is revoked by PE$/);
    expectFailure(
      check(pki, NOW, revoked(pki.intermediateDer!)),
      'CERT_UNTRUSTED',
      /^x5c\[1\] is revoked by PE$/,
    );
    expect(check(pki, NOW, revoked(makePki().leafDer)).ok).toBe(true);
  });
});

describe('THREATS.md D 26: out of validity', () => {
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
});
