import type { KeyObject, X509Certificate } from 'node:crypto';
import type { RecordRejectionCode } from '../errors.ts';

/** The JWS algorithms of the signing profile (PROTOCOL.md). */
export const ALLOWED_ALGORITHMS = ['ES256', 'EdDSA', 'PS256'] as const;
export type SigningAlgorithm = (typeof ALLOWED_ALGORITHMS)[number];

/** A check that failed, with the protocol code and a message naming what failed. */
export interface CheckFailure {
  ok: false;
  code: RecordRejectionCode;
  detail: string;
}
export type CheckResult<T> = ({ ok: true } & T) | CheckFailure;

export function fail(code: RecordRejectionCode, detail: string): CheckFailure {
  return { ok: false, code, detail };
}

/** A certificate parsed once, with what the chain rules need. */
export interface ParsedCertificate {
  der: Uint8Array;
  x509: X509Certificate;
  publicKey: KeyObject;
  /** Lowercase hex SHA-256 of the DER: the certificate's fingerprint. */
  fingerprint: string;
  /** Lowercase hex SHA-256 of the SubjectPublicKeyInfo DER: how anchors are matched. */
  spkiSha256: string;
  /** base64url SHA-256 of the DER: the `kid` of the signing profile. */
  thumbprint: string;
  signatureAlgorithmOid: string;
  /** basicConstraints: undefined when the extension is absent. */
  basicConstraintsCa: boolean | undefined;
  /** keyUsage bits by name; undefined when the extension is absent. */
  keyUsage: ReadonlySet<KeyUsageName> | undefined;
  /** OIDs of critical extensions this gateway does not understand. */
  unknownCriticalExtensions: readonly string[];
  notBefore: Date;
  notAfter: Date;
}

export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';

/** What a partner's signatures must chain to. */
export interface TrustStore {
  /** Partner adminId the anchors belong to. */
  adminId: string;
  anchors: readonly ParsedCertificate[];
  /** Fingerprints (lowercase hex SHA-256 of DER) of certificates the partner revoked. */
  revokedFingerprints: ReadonlySet<string>;
}
