import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toPem } from '../../src/crypto/cert-builder.ts';
import { certificateExtras, parseCertificate, parsePemCertificates } from '../../src/crypto/certificate.ts';
import { DerError } from '../../src/crypto/der.ts';
import { keyPair, makePki, NOW } from '../support/pki.ts';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest();

/** Replaces one hex pattern, which must occur exactly once, by another of the same length. */
function patch(
  der: Uint8Array,
  from: string,
  to: string,
  occurrence: 'first' | 'last' = 'first',
): Uint8Array {
  const hex = Buffer.from(der).toString('hex');
  const at = occurrence === 'first' ? hex.indexOf(from) : hex.lastIndexOf(from);
  expect(at).toBeGreaterThanOrEqual(0);
  expect(at % 2).toBe(0);
  return new Uint8Array(Buffer.from(hex.slice(0, at) + to + hex.slice(at + from.length), 'hex'));
}

describe('parseCertificate', () => {
  const pki = makePki({ intermediate: {} });

  it('computes fingerprint, SPKI hash and thumbprint from the DER', () => {
    const cert = parseCertificate(pki.leafDer);
    const spki = keyPair('p256', 'leaf').publicKey.export({ type: 'spki', format: 'der' });
    expect(cert.fingerprint).toBe(sha256(pki.leafDer).toString('hex'));
    expect(cert.spkiSha256).toBe(sha256(spki).toString('hex'));
    expect(cert.thumbprint).toBe(sha256(pki.leafDer).toString('base64url'));
    expect(cert.signatureAlgorithmOid).toBe('1.2.840.10045.4.3.2');
    expect(cert.basicConstraintsCa).toBe(false);
    expect([...(cert.keyUsage ?? [])]).toEqual(['digitalSignature']);
    expect(cert.unknownCriticalExtensions).toEqual([]);
    expect(cert.notBefore.toISOString()).toBe(new Date(NOW.getTime() - 30 * 86_400_000).toISOString());
    expect(cert.publicKey.asymmetricKeyType).toBe('ec');
  });

  it('keeps its own copy of the bytes', () => {
    const input = new Uint8Array(pki.leafDer);
    const cert = parseCertificate(input);
    input.fill(0);
    expect(cert.fingerprint).toBe(sha256(cert.der).toString('hex'));
    expect(cert.der[0]).toBe(0x30);
  });

  it('reads pathLenConstraint and the RSASSA-PSS hash, also for a copied certificate', () => {
    const intermediate = parseCertificate(pki.intermediateDer!);
    expect(certificateExtras(intermediate)).toEqual({ pathLen: 0, pssHash: undefined });
    expect(certificateExtras({ ...intermediate })).toEqual({ pathLen: 0, pssHash: undefined });
    const pss = makePki({ root: { key: 'rsa2048' }, leaf: { rsaPadding: 'pss', signatureHash: 'sha384' } });
    expect(certificateExtras(parseCertificate(pss.leafDer)).pssHash).toBe('sha384');
    const pss1 = makePki({ root: { key: 'rsa2048' }, leaf: { rsaPadding: 'pss', signatureHash: 'sha1' } });
    expect(certificateExtras(parseCertificate(pss1.leafDer)).pssHash).toBe('sha1');
  });

  it('refuses PEM text, trailing bytes and oversized input', () => {
    const pem = new Uint8Array(Buffer.from(toPem(pki.leafDer)));
    expect(() => parseCertificate(pem)).toThrow(DerError);
    expect(() => parseCertificate(new Uint8Array([...pki.leafDer, 0]))).toThrow(/trailing/);
    expect(() => parseCertificate(new Uint8Array(65 * 1024))).toThrow(/too large/);
  });

  it('refuses a BOOLEAN that is not DER in an extension', () => {
    const bad = patch(pki.leafDer, '0603551d130101ff', '0603551d13010101');
    expect(() => parseCertificate(bad)).toThrow(/BOOLEAN octet 0x01 is not DER/);
  });

  it('refuses a signature algorithm that differs from the one signed in the TBSCertificate', () => {
    const bad = patch(pki.leafDer, '06082a8648ce3d040302', '06082a8648ce3d040303', 'last');
    expect(() => parseCertificate(bad)).toThrow(/differs from signatureAlgorithm/);
  });

  it('refuses a version other than v3', () => {
    const bad = patch(pki.leafDer, 'a003020102', 'a003020101');
    expect(() => parseCertificate(bad)).toThrow(/not v3/);
  });

  it('refuses an extension that appears twice', () => {
    const dup = makePki({
      leaf: {
        extraExtensions: [{ oid: '2.5.29.15', critical: true, valueDer: Uint8Array.of(3, 2, 7, 0x80) }],
      },
    });
    expect(() => parseCertificate(dup.leafDer)).toThrow(/2\.5\.29\.15 appears twice/);
  });
});

describe('parsePemCertificates', () => {
  it('reads every block in order', () => {
    const pki = makePki({ intermediate: {} });
    const certs = parsePemCertificates(toPem(pki.leafDer) + toPem(pki.intermediateDer!) + toPem(pki.rootDer));
    expect(certs.map((c) => c.fingerprint)).toEqual(
      [pki.leafDer, pki.intermediateDer!, pki.rootDer].map((d) => sha256(d).toString('hex')),
    );
  });

  it('refuses a file without a certificate, or with one that is not base64', () => {
    expect(() => parsePemCertificates('')).toThrow(/no CERTIFICATE block/);
    expect(() =>
      parsePemCertificates('-----BEGIN CERTIFICATE-----\nMII*\n-----END CERTIFICATE-----'),
    ).toThrow(/not base64/);
  });
});
