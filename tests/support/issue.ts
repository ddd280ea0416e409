/**
 * Certificates issued under a test administration's real development CA (made by dev-ca.ts), for cases that
 * need a leaf a partner really trusts but with one property changed (dates, key usage, key).
 */
import { generateKeyPairSync, type KeyObject, X509Certificate } from 'node:crypto';
import {
  buildCertificate,
  type CertificateOptions,
  type DistinguishedName,
} from '../../src/crypto/cert-builder.ts';
import type { TestAdmin } from './admins.ts';

/** The subject names dev-ca.ts writes; checked against the real certificates by issueUnder. */
export function devNames(adminId: string): { root: DistinguishedName; signing: DistinguishedName } {
  const organization = `${adminId} customs administration (development)`;
  return {
    root: { commonName: `${adminId} MRA development root CA`, organization, country: adminId },
    signing: { commonName: `${adminId} MRA record signing`, organization, country: adminId },
  };
}

export interface IssuedLeaf {
  /** x5c, leaf first. */
  chainDer: Uint8Array[];
  leafKey: KeyObject;
}

/** A leaf for record signing under `admin`'s root CA (a fresh P-256 key unless given), any option overridden. */
export function issueUnder(
  admin: TestAdmin,
  overrides: Partial<CertificateOptions> = {},
  leaf: { publicKey: KeyObject; privateKey: KeyObject } = generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
  }),
): IssuedLeaf {
  const names = devNames(admin.adminId);
  const der = buildCertificate({
    subjectPublicKey: leaf.publicKey,
    issuerPrivateKey: admin.caKey,
    subject: { ...names.signing, commonName: `${admin.adminId} test leaf` },
    issuer: names.root,
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + 30 * 24 * 3600_000),
    basicConstraints: { ca: false },
    keyUsage: ['digitalSignature'],
    ...overrides,
  });
  const cert = new X509Certificate(der);
  if (overrides.issuerPrivateKey === undefined && !cert.checkIssued(admin.caCert.x509)) {
    throw new Error('devNames no longer matches the names dev-ca.ts writes');
  }
  return { chainDer: [der], leafKey: leaf.privateKey };
}
