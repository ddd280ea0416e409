/**
 * The certificate rules of the signing profile (docs/protocol.md, "Signing profile"; docs/threats.md section D), with
 * node's own crypto only. The order of the checks is part of the contract: cheap bounds before any parsing,
 * every structural and cryptographic rule (CERT_UNTRUSTED) before validity in time (CERT_EXPIRED), so a
 * forged chain is reported as untrusted even when it is also out of date.
 */
import { issuerProblem, issuerPurposeProblem, leafProblem, profileProblem } from './cert-profile.ts';
import { certificateExtras, parseCertificate } from './certificate.ts';
import { DerError } from './der.ts';
import { lapseProblem, revocationProblem, revokedReason } from './revocation.ts';
import {
  type ChainPurpose,
  type CheckFailure,
  type CheckResult,
  fail,
  type ParsedCertificate,
  type TrustStore,
} from './types.ts';

// Part of the chain's public face, kept with the other rules on a single certificate.
export { leafKeyMatchesAlg } from './cert-profile.ts';

export const MAX_CHAIN_LENGTH = 3;
export const MAX_CERTIFICATE_BYTES = 8 * 1024;

export interface ValidatedChain {
  leaf: ParsedCertificate;
  anchor: ParsedCertificate;
  /** Every certificate of x5c, parsed, leaf first (the anchor is in it only when the partner sent it). */
  chain: readonly ParsedCertificate[];
}

/** Cheap checks on the raw input, before anything is parsed or hashed. */
export function checkChainBounds(chain: readonly Uint8Array[]): CheckFailure | undefined {
  if (!Array.isArray(chain) || chain.length === 0) return fail('CERT_UNTRUSTED', 'x5c holds no certificate');
  if (chain.length > MAX_CHAIN_LENGTH) {
    return fail(
      'CERT_UNTRUSTED',
      `x5c holds ${chain.length} certificates, at most ${MAX_CHAIN_LENGTH} allowed`,
    );
  }
  for (const [i, der] of chain.entries()) {
    if (!(der instanceof Uint8Array)) return fail('CERT_UNTRUSTED', `x5c[${i}] is not DER bytes`);
    if (der.length > MAX_CERTIFICATE_BYTES) {
      return fail(
        'CERT_UNTRUSTED',
        `x5c[${i}] is ${der.length} bytes, at most ${MAX_CERTIFICATE_BYTES} allowed`,
      );
    }
  }
  return undefined;
}

/**
 * Validates `chain` (x5c, leaf first) against one partner's trust store at time `at`, for `purpose`: a signing
 * leaf (records, receipts, request tokens) or a TLS client leaf (mutual TLS).
 */
export function validateChain(
  chain: readonly Uint8Array[],
  trust: TrustStore,
  at: Date,
  purpose: ChainPurpose = 'signing',
): CheckResult<ValidatedChain> {
  if (Number.isNaN(at.getTime())) throw new TypeError('validateChain needs a valid date');
  const bounds = checkChainBounds(chain);
  if (bounds !== undefined) return bounds;
  const certs: ParsedCertificate[] = [];
  for (const [i, der] of chain.entries()) {
    try {
      certs.push(parseCertificate(der));
    } catch (err) {
      const why = err instanceof DerError ? ` (${err.message})` : '';
      return fail('CERT_UNTRUSTED', `x5c[${i}] is not a well-formed DER certificate${why}`);
    }
  }
  return validateParsedChain(certs, trust, at, purpose);
}

/** The rules on certificates already parsed; `certs` is leaf first and holds 1 to 3 certificates. */
function validateParsedChain(
  certs: readonly ParsedCertificate[],
  trust: TrustStore,
  at: Date,
  purpose: ChainPurpose,
): CheckResult<ValidatedChain> {
  const label = (i: number) => `x5c[${i}]`;
  for (const [i, cert] of certs.entries()) {
    const first = certs.findIndex((c) => c.fingerprint === cert.fingerprint);
    if (first !== i) return fail('CERT_UNTRUSTED', `${label(i)} repeats ${label(first)}`);
  }
  // Key and algorithm rules come before any signature is checked, so no weak or oversized key is ever used.
  for (const [i, cert] of certs.entries()) {
    const problem = profileProblem(cert, label(i));
    if (problem !== undefined) return problem;
  }
  for (const [i, cert] of certs.entries()) {
    if (i === 0) continue;
    const problem = issuerProblem(cert, label(i));
    if (problem !== undefined) return problem;
  }
  const leaf = certs[0]!;
  const leafFailure = leafProblem(leaf, purpose, label(0));
  if (leafFailure !== undefined) return leafFailure;
  const revoked = revocationProblem(certs, trust, label);
  if (revoked !== undefined) return revoked;
  for (let i = 0; i + 1 < certs.length; i++) {
    const problem = issuedBy(certs[i]!, certs[i + 1]!, label(i), label(i + 1));
    if (problem !== undefined) return problem;
  }
  const found = findAnchor(certs[certs.length - 1]!, certs.length - 1, trust);
  if (!found.ok) return found;
  const { anchor, anchorLabel, position } = found;
  const anchorRevoked = revokedReason(anchor, trust);
  if (anchorRevoked !== undefined) {
    return fail('CERT_UNTRUSTED', `${anchorLabel} is revoked by ${trust.adminId}: ${anchorRevoked}`);
  }
  // Only once the chain is known to be this partner's, so that another partner's chain is not told about it.
  const lapsed = lapseProblem(trust, at.getTime());
  if (lapsed !== undefined) return lapsed;
  // Position k in the path (leaf = 0) has k - 1 CA certificates below it, whatever pathLenConstraint allows.
  const issuers = certs.map((cert, k) => ({ cert, k, name: label(k) })).slice(1);
  if (position > 0) issuers.push({ cert: anchor, k: position, name: anchorLabel });
  for (const { cert, k, name } of issuers) {
    const purposeProblem = issuerPurposeProblem(cert, purpose, name);
    if (purposeProblem !== undefined) return purposeProblem;
    const pathLen = certificateExtras(cert).pathLen;
    if (pathLen !== undefined && k - 1 > pathLen) {
      return fail(
        'CERT_UNTRUSTED',
        `${name} allows ${pathLen} CA certificates below it, the chain has ${k - 1}`,
      );
    }
  }
  const dated: [ParsedCertificate, string][] = [
    ...certs.map((c, i): [ParsedCertificate, string] => [c, label(i)]),
  ];
  dated.push([anchor, anchorLabel]);
  for (const [cert, name] of dated) {
    if (at < cert.notBefore) {
      return fail('CERT_EXPIRED', `${name} is not valid before ${cert.notBefore.toISOString()}`);
    }
    if (at > cert.notAfter) return fail('CERT_EXPIRED', `${name} expired at ${cert.notAfter.toISOString()}`);
  }
  return { ok: true, leaf, anchor, chain: certs };
}

/** `position`: where the anchor stands in the path, leaf = 0; it replaces x5c's last certificate or follows it. */
type AnchorMatch =
  | { ok: true; anchor: ParsedCertificate; anchorLabel: string; position: number }
  | CheckFailure;

/**
 * The anchor is found by key only: either the last certificate carries an anchor's key (the partner sent its
 * root, or pins a lower certificate), or an anchor's key signed the last certificate. A look-alike root with
 * the anchor's name but its own key matches neither way.
 */
function findAnchor(last: ParsedCertificate, lastIndex: number, trust: TrustStore): AnchorMatch {
  const lastLabel = `x5c[${lastIndex}]`;
  const anchorLabel = (i: number) => `trust anchor ${i} of ${trust.adminId}`;
  const pinned = trust.anchors.findIndex((a) => a.spkiSha256 === last.spkiSha256);
  if (pinned >= 0) {
    const anchor = trust.anchors[pinned]!;
    const name = anchorLabel(pinned);
    // Anyone can put the anchor's key in a certificate of their own making, so the configured certificate, not
    // the copy in x5c, must also be fit to issue when it stands above the leaf.
    const problem = profileProblem(anchor, name) ?? (lastIndex > 0 ? issuerProblem(anchor, name) : undefined);
    if (problem !== undefined) return problem;
    return { ok: true, anchor, anchorLabel: name, position: lastIndex };
  }
  for (const [i, anchor] of trust.anchors.entries()) {
    if (!verifiesWith(last, anchor)) continue;
    const name = anchorLabel(i);
    const problem = profileProblem(anchor, name) ?? issuerProblem(anchor, name);
    if (problem !== undefined) return problem;
    if (!namesIssuer(last, anchor)) {
      return fail('CERT_UNTRUSTED', `${lastLabel} is signed by ${name} but its issuer does not name it`);
    }
    return { ok: true, anchor, anchorLabel: name, position: lastIndex + 1 };
  }
  return fail('CERT_UNTRUSTED', `${lastLabel} does not chain to a trust anchor of ${trust.adminId}`);
}

function issuedBy(cert: ParsedCertificate, issuer: ParsedCertificate, name: string, issuerName: string) {
  if (!namesIssuer(cert, issuer)) {
    return fail('CERT_UNTRUSTED', `${name} is not issued by ${issuerName} (issuer does not match)`);
  }
  if (!verifiesWith(cert, issuer)) {
    return fail('CERT_UNTRUSTED', `${name} signature does not verify with the key of ${issuerName}`);
  }
  return undefined;
}

/** Names (and key identifiers, when both are present) only: node's checkIssued, never trusted alone. */
function namesIssuer(cert: ParsedCertificate, issuer: ParsedCertificate): boolean {
  try {
    return cert.x509.checkIssued(issuer.x509);
  } catch {
    return false;
  }
}

function verifiesWith(cert: ParsedCertificate, issuer: ParsedCertificate): boolean {
  try {
    return cert.x509.verify(issuer.publicKey);
  } catch {
    // OpenSSL throws rather than answers false for some key and algorithm mismatches.
    return false;
  }
}
