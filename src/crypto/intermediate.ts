/**
 * Whether a certificate a partner gave out of band as one of its issuing CAs (`partners[].intermediates`) is
 * fit to complete that partner's paths: a CA by the profile's rules, issued under one of its trust anchors,
 * with the anchor's key checked, never its name alone. Checked once, when the configuration is loaded; every
 * path built with it is still validated in full at each use.
 */
import { issuerProblem, profileProblem } from './cert-profile.ts';
import { certificateExtras } from './certificate.ts';
import type { ParsedCertificate, TrustStore } from './types.ts';

/** Undefined when fit; otherwise why not, in a sentence naming what failed. */
export function intermediateProblem(cert: ParsedCertificate, trust: TrustStore): string | undefined {
  const own = profileProblem(cert, 'the certificate') ?? issuerProblem(cert, 'the certificate');
  if (own !== undefined) return own.detail;
  for (const [i, anchor] of trust.anchors.entries()) {
    const name = `trust anchor ${i} of ${trust.adminId}`;
    // The anchor itself, or a copy of it: nothing to complete, but nothing wrong either.
    if (anchor.spkiSha256 === cert.spkiSha256) return undefined;
    if (!issuedBy(cert, anchor)) continue;
    const problem = profileProblem(anchor, name) ?? issuerProblem(anchor, name);
    if (problem !== undefined) return problem.detail;
    const pathLen = certificateExtras(anchor).pathLen;
    if (pathLen !== undefined && pathLen < 1) return `${name} allows no CA certificate below it (pathLen 0)`;
    return undefined;
  }
  return `the certificate is not issued by a trust anchor of ${trust.adminId} (name and signature checked)`;
}

function issuedBy(cert: ParsedCertificate, issuer: ParsedCertificate): boolean {
  try {
    return cert.x509.checkIssued(issuer.x509) && cert.x509.verify(issuer.publicKey);
  } catch {
    // OpenSSL throws rather than answers false for some key and algorithm mismatches.
    return false;
  }
}
