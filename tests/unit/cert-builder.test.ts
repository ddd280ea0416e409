import { createHash, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildCertificate, type CertificateOptions, toPem } from '../../src/crypto/cert-builder.ts';
import { parseCertificate, parsePemCertificates } from '../../src/crypto/certificate.ts';
import { children, decodeDer, decodeOid, sequence } from '../../src/crypto/der.ts';
import { type KeySpec, keyPair, NOW, UNKNOWN_EXTENSION_OID, unknownExtension } from '../support/pki.ts';

const ROOT = { commonName: 'Builder root', organization: 'Aduanas Perú', country: 'PE' };

function selfSigned(key: KeySpec, extra: Partial<CertificateOptions> = {}): Uint8Array {
  const pair = keyPair(key, 'builder');
  return buildCertificate({
    subjectPublicKey: pair.publicKey,
    issuerPrivateKey: pair.privateKey,
    subject: ROOT,
    issuer: ROOT,
    notBefore: NOW,
    notAfter: new Date(NOW.getTime() + 86_400_000),
    basicConstraints: { ca: true },
    keyUsage: ['keyCertSign'],
    ...extra,
  });
}

/** extnID → extnValue contents, read with the gateway's own DER reader. */
function extensionValues(der: Uint8Array): Map<string, string> {
  const tbs = sequence(decodeDer(der), 'Certificate')[0]!;
  const wrapper = children(tbs).find((el) => el.tag === 0xa3)!;
  const out = new Map<string, string>();
  for (const ext of sequence(children(wrapper)[0], 'extensions')) {
    const parts = children(ext);
    out.set(decodeOid(parts[0]!), Buffer.from(parts[parts.length - 1]!.value).toString('hex'));
  }
  return out;
}

const publicOf = (key: KeyObject) => createPublicKey(key);

describe('buildCertificate: signatures by issuer key type', () => {
  it.each<[KeySpec, Partial<CertificateOptions>, string]>([
    ['p256', {}, '1.2.840.10045.4.3.2'],
    ['p256', { signatureHash: 'sha384' }, '1.2.840.10045.4.3.3'],
    ['p256', { signatureHash: 'sha1' }, '1.2.840.10045.4.1'],
    ['ed25519', { signatureHash: 'sha512' }, '1.3.101.112'],
    ['rsa2048', {}, '1.2.840.113549.1.1.11'],
    ['rsa2048', { signatureHash: 'sha1' }, '1.2.840.113549.1.1.5'],
    ['rsa2048', { signatureHash: 'md5' }, '1.2.840.113549.1.1.4'],
    ['rsa2048', { rsaPadding: 'pss' }, '1.2.840.113549.1.1.10'],
    ['rsapss2048', {}, '1.2.840.113549.1.1.10'],
  ])('%s %o signs with %s, and node verifies it', (key, extra, oid) => {
    const der = selfSigned(key, extra);
    const x509 = new X509Certificate(der);
    expect(x509.signatureAlgorithmOid).toBe(oid);
    expect(x509.verify(publicOf(keyPair(key, 'builder').privateKey))).toBe(true);
    expect(x509.verify(keyPair('p256', 'someone-else').publicKey)).toBe(false);
  });

  it('refuses ECDSA with MD5, which has no algorithm identifier', () => {
    expect(() => selfSigned('p256', { signatureHash: 'md5' })).toThrow(/ECDSA with md5/);
  });

  it('takes an SPKI as bytes, for keys node will not generate', () => {
    const spki = keyPair('rsa2048e1').publicKey.export({ type: 'spki', format: 'der' });
    const der = selfSigned('p256', { subjectPublicKey: new Uint8Array(spki) });
    expect(parseCertificate(der).publicKey.asymmetricKeyDetails?.publicExponent).toBe(1n);
  });
});

describe('buildCertificate: fields', () => {
  it('writes names, UTF-8 included, and the serial as given', () => {
    const x509 = new X509Certificate(selfSigned('p256', { serial: 0xabcdn }));
    expect(x509.subject).toBe('C=PE\nO=Aduanas Perú\nCN=Builder root');
    expect(x509.issuer).toBe(x509.subject);
    expect(x509.serialNumber).toBe('ABCD');
    expect(new X509Certificate(selfSigned('p256', { serial: '0102ff' })).serialNumber).toBe('0102FF');
    // A serial with the high bit set needs a leading zero octet to stay positive.
    expect(() => parseCertificate(selfSigned('p256', { serial: 0x80n }))).not.toThrow();
  });

  it('uses UTCTime through 2049 and GeneralizedTime from 2050, to the second', () => {
    const notAfter = new Date('2060-03-04T05:06:07.890Z');
    const der = selfSigned('p256', { notAfter });
    const validity = sequence(children(decodeDer(der))[0], 'tbs')[4]!;
    expect(children(validity).map((t) => t.tag)).toEqual([0x17, 0x18]);
    expect(new X509Certificate(der).validToDate.toISOString()).toBe('2060-03-04T05:06:07.000Z');
  });

  it('writes basicConstraints only when asked, critical, with pathLen', () => {
    expect(
      parseCertificate(selfSigned('p256', { basicConstraints: undefined })).basicConstraintsCa,
    ).toBeUndefined();
    expect(parseCertificate(selfSigned('p256', { basicConstraints: { ca: false } })).basicConstraintsCa).toBe(
      false,
    );
    const der = selfSigned('p256', { basicConstraints: { ca: true, pathLen: 2 } });
    expect(extensionValues(der).get('2.5.29.19')).toBe('30060101ff020102');
    expect(Buffer.from(der).includes(Buffer.from('0603551d130101ff', 'hex'))).toBe(true);
    expect(new X509Certificate(der).ca).toBe(true);
  });

  it.each([
    [['digitalSignature'], '03020780'],
    [['keyCertSign', 'cRLSign'], '03020106'],
    [['digitalSignature', 'decipherOnly'], '0303078080'],
    [[], '030100'],
  ] as const)('encodes keyUsage %o as the minimal named bit list %s', (usages, hex) => {
    const der = selfSigned('p256', { keyUsage: usages });
    expect(extensionValues(der).get('2.5.29.15')).toBe(hex);
    expect([...(parseCertificate(der).keyUsage ?? [])].sort()).toEqual([...usages].sort());
  });

  it('writes extKeyUsage and subjectAltName that node reads back', () => {
    const der = selfSigned('p256', {
      extKeyUsage: ['serverAuth', 'clientAuth', '1.3.6.1.5.5.7.3.8'],
      subjectAltName: { dns: ['localhost'], ips: ['127.0.0.1', '::1', '2001:db8::7'] },
    });
    const x509 = new X509Certificate(der);
    expect(x509.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.8']);
    expect(x509.checkHost('localhost')).toBe('localhost');
    expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x509.checkIP('::1')).toBe('::1');
    expect(x509.checkIP('2001:db8::7')).toBe('2001:db8::7');
    expect(x509.checkIP('10.0.0.1')).toBeUndefined();
  });

  it('links subject and authority key identifiers, and can leave them out', () => {
    const issuer = keyPair('p256', 'builder');
    const root = selfSigned('p256');
    const leaf = buildCertificate({
      subjectPublicKey: keyPair('ed25519', 'builder-leaf').publicKey,
      issuerPrivateKey: issuer.privateKey,
      subject: { commonName: 'leaf' },
      issuer: ROOT,
      notBefore: NOW,
      notAfter: new Date(NOW.getTime() + 1000),
    });
    const ski = extensionValues(root).get('2.5.29.14')!;
    expect(ski).toMatch(/^0414[0-9a-f]{40}$/);
    expect(extensionValues(leaf).get('2.5.29.35')).toBe(`30168014${ski.slice(4)}`);
    expect(new X509Certificate(leaf).checkIssued(new X509Certificate(root))).toBe(true);
    const bare = selfSigned('p256', {
      keyIdentifiers: false,
      basicConstraints: undefined,
      keyUsage: undefined,
    });
    expect(children(sequence(decodeDer(bare), 'Certificate')[0]!).some((el) => el.tag === 0xa3)).toBe(false);
  });

  it('adds extra extensions as given, critical or not', () => {
    const der = selfSigned('p256', { extraExtensions: [unknownExtension(true)] });
    expect(parseCertificate(der).unknownCriticalExtensions).toEqual([UNKNOWN_EXTENSION_OID]);
    expect(extensionValues(der).get(UNKNOWN_EXTENSION_OID)).toBe('0500');
  });
});

describe('toPem', () => {
  it('writes 64-character lines that parsePemCertificates reads back, several to a file', () => {
    const a = selfSigned('p256');
    const b = selfSigned('ed25519');
    const pem = toPem(a);
    expect(pem.split('\n').every((line) => line.length <= 64)).toBe(true);
    expect(pem.startsWith('-----BEGIN CERTIFICATE-----\n')).toBe(true);
    const parsed = parsePemCertificates(`# anchors\n${pem}\nsome comment\n${toPem(b)}`);
    const sha = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');
    expect(parsed.map((c) => c.fingerprint)).toEqual([sha(a), sha(b)]);
    expect(toPem(a, 'X509 CRL')).toMatch(/^-----BEGIN X509 CRL-----\n[\s\S]*-----END X509 CRL-----\n$/);
  });
});
