/**
 * The rules each certificate obeys on its own (PROTOCOL.md, "Signing profile"): key type and size, signature
 * algorithm, critical extensions, and what makes a certificate fit to issue others.
 */
import { certificateExtras } from './certificate.ts';
import { type CheckFailure, fail, type ParsedCertificate, type SigningAlgorithm } from './types.ts';

const RSA_PSS_OID = '1.2.840.113549.1.1.10';

const ALLOWED_SIGNATURES: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  [RSA_PSS_OID]: 'RSASSA-PSS',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.3.101.112': 'Ed25519',
};

/** Names for refused algorithms, only so that the detail says what was found. */
const REFUSED_SIGNATURES: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.14': 'sha224WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.1': 'ecdsa-with-SHA224',
  '1.2.840.10040.4.3': 'dsa-with-SHA1',
  '1.3.101.113': 'Ed448',
};

const PSS_HASHES: ReadonlySet<string> = new Set(['sha256', 'sha384', 'sha512']);

/** node's checkIssued accepts an end-entity issuer, so the CA rules are checked here. */
export function issuerProblem(cert: ParsedCertificate, name: string): CheckFailure | undefined {
  if (cert.basicConstraintsCa !== true) {
    const why =
      cert.basicConstraintsCa === undefined ? 'has no basicConstraints' : 'basicConstraints cA is not TRUE';
    return fail('CERT_UNTRUSTED', `${name} is not a CA (${why})`);
  }
  if (cert.keyUsage !== undefined && !cert.keyUsage.has('keyCertSign')) {
    return fail('CERT_UNTRUSTED', `${name} is a CA whose keyUsage does not allow keyCertSign`);
  }
  return undefined;
}

/** Key type and size, signature algorithm, critical extensions: the rules every certificate obeys. */
export function profileProblem(cert: ParsedCertificate, name: string): CheckFailure | undefined {
  const keyProblem = keyProblemOf(cert);
  if (keyProblem !== undefined) return fail('CERT_UNTRUSTED', `${name} ${keyProblem}`);
  const oid = cert.signatureAlgorithmOid;
  if (ALLOWED_SIGNATURES[oid] === undefined) {
    return fail(
      'CERT_UNTRUSTED',
      `${name} is signed with ${REFUSED_SIGNATURES[oid] ?? oid}, which is refused`,
    );
  }
  if (oid === RSA_PSS_OID) {
    const hash = certificateExtras(cert).pssHash;
    if (hash === undefined || !PSS_HASHES.has(hash)) {
      return fail('CERT_UNTRUSTED', `${name} is signed with RSASSA-PSS over ${hash}, which is refused`);
    }
  }
  const [critical] = cert.unknownCriticalExtensions;
  if (critical !== undefined)
    return fail('CERT_UNTRUSTED', `${name} has an unknown critical extension ${critical}`);
  return undefined;
}

function keyProblemOf(cert: ParsedCertificate): string | undefined {
  const key = cert.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss': {
      const bits = details.modulusLength ?? 0;
      if (bits < 2048 || bits > 4096) return `has an RSA key of ${bits} bits (2048 to 4096 allowed)`;
      if (details.publicExponent !== 65537n) {
        return `has an RSA key with public exponent ${details.publicExponent} (65537 required)`;
      }
      return undefined;
    }
    case 'ec':
      return details.namedCurve === 'prime256v1'
        ? undefined
        : `has an EC key on ${details.namedCurve} (P-256 required)`;
    case 'ed25519':
      return undefined;
    default:
      return `has a key of type ${key.asymmetricKeyType} (RSA, EC P-256 or Ed25519 required)`;
  }
}

/** Whether the JWS alg fits the leaf's key, so that a token cannot pick a verification the key was not made for. */
export function leafKeyMatchesAlg(leaf: ParsedCertificate, alg: SigningAlgorithm): boolean {
  const key = leaf.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  switch (alg) {
    case 'ES256':
      return key.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1';
    case 'EdDSA':
      return key.asymmetricKeyType === 'ed25519';
    case 'PS256':
      // An RSA-PSS key may be bound to one hash; PS256 needs it to be SHA-256 when it is.
      return (
        key.asymmetricKeyType === 'rsa' ||
        (key.asymmetricKeyType === 'rsa-pss' && (details.hashAlgorithm ?? 'sha256') === 'sha256')
      );
    default:
      return false;
  }
}
