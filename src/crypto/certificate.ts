/**
 * Parses a certificate once into what the chain rules need. node:crypto (OpenSSL) parses the certificate and
 * its key; cert-fields.ts reads from the DER the few fields node does not expose faithfully. Both parsers must
 * accept the input, so a certificate that only one of them can read is refused rather than read two ways.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { type CertificateExtras, readDerFields } from './cert-fields.ts';
import { DerError } from './der.ts';
import { identityKey, type ParsedCertificate } from './types.ts';

/** Anchor files are configuration, but still bounded: no real certificate comes near this. */
const MAX_PARSE_BYTES = 64 * 1024;

/** Kept beside each parsed certificate instead of widening the shared type. */
const extrasByCertificate = new WeakMap<ParsedCertificate, CertificateExtras>();

export function parseCertificate(der: Uint8Array): ParsedCertificate {
  if (!(der instanceof Uint8Array)) throw new TypeError('certificate DER must be a Uint8Array');
  if (der.length > MAX_PARSE_BYTES) throw new DerError(`certificate of ${der.length} octets is too large`);
  // A private copy: the caller's buffer may be reused or changed after the checks below.
  const own = new Uint8Array(der);
  const fields = readDerFields(own);
  const x509 = new X509Certificate(own);
  const publicKey = x509.publicKey;
  const digest = sha256(own);
  const parsed: ParsedCertificate = {
    der: own,
    x509,
    publicKey,
    fingerprint: digest.toString('hex'),
    spkiSha256: sha256(fields.spki).toString('hex'),
    thumbprint: digest.toString('base64url'),
    signatureAlgorithmOid: fields.signatureAlgorithmOid,
    basicConstraintsCa: fields.basicConstraintsCa,
    keyUsage: fields.keyUsage,
    extKeyUsage: fields.extKeyUsage,
    unknownCriticalExtensions: fields.unknownCriticalExtensions,
    // Views into `own`, the private copy kept as `der`.
    issuerDer: fields.issuerDer,
    subjectDer: fields.subjectDer,
    serial: fields.serial,
    identity: identityKey(fields.issuerDer, fields.serial),
    notBefore: x509.validFromDate,
    notAfter: x509.validToDate,
  };
  extrasByCertificate.set(parsed, { pathLen: fields.pathLen, pssHash: fields.pssHash });
  return parsed;
}

/** The extras of a certificate; read again from its DER when it was not made by parseCertificate. */
export function certificateExtras(cert: ParsedCertificate): CertificateExtras {
  const known = extrasByCertificate.get(cert);
  if (known !== undefined) return known;
  const { pathLen, pssHash } = readDerFields(cert.der);
  const extras = { pathLen, pssHash };
  extrasByCertificate.set(cert, extras);
  return extras;
}

/** Every CERTIFICATE block of a PEM file, in order; anything else between blocks is ignored. */
export function parsePemCertificates(pem: string): ParsedCertificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new DerError('no CERTIFICATE block in PEM');
  return blocks.map((block, i) => {
    const body = block.slice('-----BEGIN CERTIFICATE-----'.length, -'-----END CERTIFICATE-----'.length);
    const b64 = body.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) {
      throw new DerError(`PEM block ${i} is not base64`);
    }
    return parseCertificate(Buffer.from(b64, 'base64'));
  });
}

function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}
