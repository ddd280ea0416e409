import type { KeyObject, X509Certificate } from 'node:crypto';
import type { RecordRejectionCode } from '../errors.ts';
import { nameKey } from './name-key.ts';

/** The JWS algorithms of the signing profile (docs/protocol.md). */
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
  /** extKeyUsage purposes (dotted OIDs); undefined when the extension is absent. */
  extKeyUsage: ReadonlySet<string> | undefined;
  /** OIDs of critical extensions this gateway does not enforce (name and policy constraints among them). */
  unknownCriticalExtensions: readonly string[];
  /** The issuer Name exactly as encoded, and the subject Name likewise. */
  issuerDer: Uint8Array;
  subjectDer: Uint8Array;
  /** serialNumber as a signed integer in lowercase hex: one value whatever its encoding. */
  serial: string;
  /**
   * Who the certificate is, for revocation: issuer Name (as names compare) and serial. A re-encoded copy has other bytes
   * and another fingerprint, but the same identity, because the issuer signed exactly these fields.
   */
  identity: string;
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

/** What a chain is validated for: signing records, receipts and tokens, or a TLS client at the handshake. */
export type ChainPurpose = 'signing' | 'tls-client';

/**
 * The key of a revoked certificate in Revocation.identities: see ParsedCertificate.identity. The issuer is
 * keyed by its name as chain building compares names (name-key.ts), not by the bytes of one spelling of it.
 */
export function identityKey(issuerDer: Uint8Array, serial: string): string {
  return `${nameKey(issuerDer)}/${serial}`;
}

/** One certificate revocation list a partner's revocation came from (src/crypto/crl.ts). */
export interface CrlSummary {
  /** Where it was read from: a file path or a label. */
  source: string;
  /** The issuer's Name in RFC 4514-like text, for messages. */
  issuerName: string;
  thisUpdate: Date;
  nextUpdate: Date;
  entries: number;
}

/** Revocation by identity (docs/protocol.md, "Signing profile"), built at load from CRLs and revoked certificates. */
export interface Revocation {
  /** identityKey(issuer, serial) of every revoked certificate. */
  identities: ReadonlySet<string>;
  /** Lowercase hex SHA-256 of revoked SubjectPublicKeyInfos: a revoked key stays revoked in any certificate. */
  spkiSha256: ReadonlySet<string>;
  crls: readonly CrlSummary[];
  /** Earliest nextUpdate of `crls` in ms since the epoch; Infinity without CRLs. */
  lapsesAt: number;
  /** Days before a nextUpdate from which an alert says the CRL is about to lapse. */
  warningDays: number;
}

/** What a partner's signatures must chain to. */
export interface TrustStore {
  /** Partner adminId the anchors belong to. */
  adminId: string;
  anchors: readonly ParsedCertificate[];
  /**
   * Deprecated: fingerprints (lowercase hex SHA-256 of DER) of revoked certificates, matched on exact bytes.
   * The configuration only accepts a fingerprint whose certificate it also revokes by identity.
   */
  revokedFingerprints: ReadonlySet<string>;
  /** Revocation by identity and key; none when absent. */
  revocation?: Revocation | undefined;
}
