/**
 * Which configured CA certificate issued a CRL (crl.ts reads it): its subject names the CRL's issuer, it is
 * fit to sign CRLs, and its key verifies the CRL's signature under the algorithm allow-list of certificates.
 * Only then are the CRL's entries revoked identities.
 */
import { constants, verify } from 'node:crypto';
import { OID as CERT_OID } from './cert-fields.ts';
import { issuerProblem, profileProblem, signatureAlgorithmProblem } from './cert-profile.ts';
import type { ParsedCrl } from './crl.ts';
import { nameKey } from './name-key.ts';
import { identityKey, type ParsedCertificate } from './types.ts';

export function revokedIdentities(crl: ParsedCrl): string[] {
  return crl.serials.map((serial) => identityKey(crl.issuerDer, serial));
}

/**
 * The configured certificate that issued `crl`: its subject names the CRL's issuer, it is fit to sign CRLs,
 * and its key verifies the CRL's signature. Otherwise a sentence saying why none is.
 */
export function crlIssuer(
  crl: ParsedCrl,
  candidates: readonly ParsedCertificate[],
): { ok: true; issuer: ParsedCertificate } | { ok: false; detail: string } {
  const algProblem = signatureAlgorithmProblem(crl.signatureAlgorithmOid, crl.pssHash);
  if (algProblem !== undefined) return { ok: false, detail: `the CRL ${algProblem}` };
  // Names compare as chain building compares them (name-key.ts); the signature below decides.
  const issuerKey = nameKey(crl.issuerDer);
  const named = candidates.filter((c) => nameKey(c.subjectDer) === issuerKey);
  if (named.length === 0) {
    return {
      ok: false,
      detail: `its issuer ${crl.issuerName} is none of the partner's configured CA certificates`,
    };
  }
  let why = 'its signature does not verify with the key of';
  for (const cert of named) {
    const problem = profileProblem(cert, cert.x509.subject) ?? issuerProblem(cert, 'its issuer');
    if (problem !== undefined) {
      why = problem.detail;
      continue;
    }
    if (cert.keyUsage !== undefined && !cert.keyUsage.has('cRLSign')) {
      why = 'its issuer is a CA whose keyUsage does not allow cRLSign';
      continue;
    }
    if (signedBy(crl, cert)) return { ok: true, issuer: cert };
  }
  return { ok: false, detail: why.endsWith(' of') ? `${why} ${crl.issuerName}` : why };
}

function signedBy(crl: ParsedCrl, cert: ParsedCertificate): boolean {
  const key = cert.publicKey;
  const type = key.asymmetricKeyType;
  const hash = HASHES[crl.signatureAlgorithmOid];
  try {
    switch (crl.signatureAlgorithmOid) {
      case '1.3.101.112':
        return type === 'ed25519' && verify(null, crl.tbs, key, crl.signature);
      case CERT_OID.rsassaPss:
        return (
          (type === 'rsa' || type === 'rsa-pss') &&
          verify(
            crl.pssHash ?? 'sha1',
            crl.tbs,
            { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
            crl.signature,
          )
        );
      default:
        if (hash === undefined) return false;
        if (hash.type === 'ec')
          return type === 'ec' && verify(hash.name, crl.tbs, { key, dsaEncoding: 'der' }, crl.signature);
        return type === 'rsa' && verify(hash.name, crl.tbs, key, crl.signature);
    }
  } catch {
    return false;
  }
}

const HASHES: Readonly<Record<string, { name: string; type: 'rsa' | 'ec' }>> = {
  '1.2.840.113549.1.1.11': { name: 'sha256', type: 'rsa' },
  '1.2.840.113549.1.1.12': { name: 'sha384', type: 'rsa' },
  '1.2.840.113549.1.1.13': { name: 'sha512', type: 'rsa' },
  '1.2.840.10045.4.3.2': { name: 'sha256', type: 'ec' },
  '1.2.840.10045.4.3.3': { name: 'sha384', type: 'ec' },
  '1.2.840.10045.4.3.4': { name: 'sha512', type: 'ec' },
};
