/**
 * The rules each certificate obeys on its own (docs/protocol.md, "Signing profile"): key type and size, signature
 * algorithm, critical extensions, and what makes a certificate fit to issue others.
 */
import { OID } from './cert-fields.ts';
import { certificateExtras } from './certificate.ts';
import {
  type ChainPurpose,
  type CheckFailure,
  fail,
  type ParsedCertificate,
  type SigningAlgorithm,
} from './types.ts';

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

/** Names of extensions the gateway knows of but does not enforce, only so that a refusal names them. */
const EXTENSION_NAMES: Readonly<Record<string, string>> = {
  [OID.certificatePolicies]: 'certificatePolicies',
  [OID.nameConstraints]: 'nameConstraints',
  [OID.policyConstraints]: 'policyConstraints',
  [OID.inhibitAnyPolicy]: 'inhibitAnyPolicy',
  '2.5.29.33': 'policyMappings',
  '2.5.29.9': 'subjectDirectoryAttributes',
  '2.5.29.18': 'issuerAltName',
  '2.5.29.46': 'freshestCRL',
  '1.3.6.1.5.5.7.1.1': 'authorityInfoAccess',
};

const PSS_HASHES: ReadonlySet<string> = new Set(['sha256', 'sha384', 'sha512']);

/**
 * Whether a signature algorithm (with its RSASSA-PSS hash, when it is PSS) is one the profile allows on
 * certificates; CRLs obey the same list. Undefined when allowed, else a phrase naming what was found.
 */
export function signatureAlgorithmProblem(oid: string, pssHash: string | undefined): string | undefined {
  if (ALLOWED_SIGNATURES[oid] === undefined) {
    return `is signed with ${REFUSED_SIGNATURES[oid] ?? oid}, which is refused`;
  }
  if (oid === RSA_PSS_OID && (pssHash === undefined || !PSS_HASHES.has(pssHash))) {
    return `is signed with RSASSA-PSS over ${pssHash}, which is refused`;
  }
  return undefined;
}

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
  const algProblem = signatureAlgorithmProblem(
    oid,
    oid === RSA_PSS_OID ? certificateExtras(cert).pssHash : undefined,
  );
  if (algProblem !== undefined) return fail('CERT_UNTRUSTED', `${name} ${algProblem}`);
  const [critical] = cert.unknownCriticalExtensions;
  if (critical !== undefined) {
    const known = EXTENSION_NAMES[critical];
    return fail(
      'CERT_UNTRUSTED',
      known === undefined
        ? `${name} has an unknown critical extension ${critical}`
        : `${name} has a critical ${known} extension (${critical}), which this gateway does not enforce`,
    );
  }
  return undefined;
}

const EKU = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  any: '2.5.29.37.0',
} as const;
const TLS_PURPOSES: ReadonlySet<string> = new Set([EKU.serverAuth, EKU.clientAuth]);

/**
 * What the end-entity certificate must be for its purpose (docs/protocol.md, "Signing profile"). A signing leaf is
 * no CA, carries keyUsage with digitalSignature, and is not a TLS certificate: extKeyUsage, when present, names
 * some purpose other than serverAuth and clientAuth. A TLS client leaf is no CA and, when it says, is meant for
 * clientAuth and digital signatures.
 */
export function leafProblem(
  leaf: ParsedCertificate,
  purpose: ChainPurpose,
  name: string,
): CheckFailure | undefined {
  if (leaf.basicConstraintsCa === true) {
    return fail(
      'CERT_UNTRUSTED',
      `${name} is a CA certificate (basicConstraints cA TRUE), not an end entity`,
    );
  }
  const eku = leaf.extKeyUsage;
  if (purpose === 'signing') {
    if (leaf.keyUsage === undefined) return fail('CERT_UNTRUSTED', `${name} has no keyUsage extension`);
    if (!leaf.keyUsage.has('digitalSignature')) {
      return fail('CERT_UNTRUSTED', `${name} keyUsage does not allow digitalSignature`);
    }
    if (eku !== undefined && [...eku].every((p) => TLS_PURPOSES.has(p))) {
      return fail(
        'CERT_UNTRUSTED',
        `${name} is a TLS certificate (extKeyUsage limited to serverAuth/clientAuth), which does not sign`,
      );
    }
    return undefined;
  }
  if (eku !== undefined && !eku.has(EKU.clientAuth) && !eku.has(EKU.any)) {
    return fail('CERT_UNTRUSTED', `${name} extKeyUsage does not allow clientAuth`);
  }
  if (leaf.keyUsage !== undefined && !leaf.keyUsage.has('digitalSignature')) {
    return fail('CERT_UNTRUSTED', `${name} keyUsage does not allow digitalSignature`);
  }
  return undefined;
}

/**
 * extKeyUsage in a CA certificate limits the purposes of every certificate under it, as TLS stacks read it (and
 * OpenSSL at the handshake): a CA limited to TLS issues no signing leaf, one without clientAuth no TLS client.
 */
export function issuerPurposeProblem(
  issuer: ParsedCertificate,
  purpose: ChainPurpose,
  name: string,
): CheckFailure | undefined {
  const eku = issuer.extKeyUsage;
  if (eku === undefined || eku.has(EKU.any)) return undefined;
  if (purpose === 'signing' && [...eku].every((p) => TLS_PURPOSES.has(p))) {
    return fail(
      'CERT_UNTRUSTED',
      `${name} is a CA limited to TLS (extKeyUsage serverAuth/clientAuth only), which issues no signing certificate`,
    );
  }
  if (purpose === 'tls-client' && !eku.has(EKU.clientAuth)) {
    return fail('CERT_UNTRUSTED', `${name} is a CA whose extKeyUsage does not allow clientAuth`);
  }
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
