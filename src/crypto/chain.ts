/**
 * The certificate rules of the signing profile (PROTOCOL.md, "Signing profile"; THREATS.md section D), with
 * node's own crypto only. The order of the checks is part of the contract: cheap bounds before any parsing,
 * every structural and cryptographic rule (CERT_UNTRUSTED) before validity in time (CERT_EXPIRED), so a
 * forged chain is reported as untrusted even when it is also out of date.
 */
import { createHash } from 'node:crypto';
import { issuerProblem, profileProblem } from './cert-profile.ts';
import { certificateExtras, parseCertificate } from './certificate.ts';
import { DerError } from './der.ts';
import {
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

export function validateChain(
  chain: readonly Uint8Array[],
  trust: TrustStore,
  at: Date,
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
  return validateParsedChain(certs, trust, at);
}

/** The rules on certificates already parsed; `certs` is leaf first and holds 1 to 3 certificates. */
function validateParsedChain(
  certs: readonly ParsedCertificate[],
  trust: TrustStore,
  at: Date,
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
  if (leaf.keyUsage === undefined) return fail('CERT_UNTRUSTED', `${label(0)} has no keyUsage extension`);
  if (!leaf.keyUsage.has('digitalSignature')) {
    return fail('CERT_UNTRUSTED', `${label(0)} keyUsage does not allow digitalSignature`);
  }
  for (const [i, cert] of certs.entries()) {
    if (trust.revokedFingerprints.has(cert.fingerprint)) {
      return fail('CERT_UNTRUSTED', `${label(i)} is revoked by ${trust.adminId}`);
    }
  }
  for (let i = 0; i + 1 < certs.length; i++) {
    const problem = issuedBy(certs[i]!, certs[i + 1]!, label(i), label(i + 1));
    if (problem !== undefined) return problem;
  }
  const found = findAnchor(certs[certs.length - 1]!, certs.length - 1, trust);
  if (!found.ok) return found;
  const { anchor, anchorLabel, position } = found;
  // Position k in the path (leaf = 0) has k - 1 CA certificates below it, whatever pathLenConstraint allows.
  const issuers = certs.map((cert, k) => ({ cert, k, name: label(k) })).slice(1);
  if (position > 0) issuers.push({ cert: anchor, k: position, name: anchorLabel });
  for (const { cert, k, name } of issuers) {
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

/*
 * The chain cache. Validating a chain costs several signature verifications and two parsers per certificate,
 * while a partner signs thousands of records with the same few chains. A success is remembered for the same
 * chain bytes and the same trust anchors, and reused only while the time checked is inside every
 * certificate's validity and none of the chain has since been revoked. Failures are never remembered, so the
 * cache cannot turn a rejection into an acceptance or outlive the rules.
 */

export interface ChainCache {
  /** Same contract as validateChain. */
  validate(chain: readonly Uint8Array[], trust: TrustStore, at: Date): CheckResult<ValidatedChain>;
  readonly size: number;
  clear(): void;
}

interface Entry {
  result: ValidatedChain;
  /** Fingerprints of the chain's certificates, to see revocations made after the entry was stored. */
  fingerprints: readonly string[];
  /** Latest notBefore and earliest notAfter, in ms, over the chain and the anchor. */
  validFrom: number;
  validTo: number;
}

export function createChainCache(maxEntries: number): ChainCache {
  if (!Number.isInteger(maxEntries) || maxEntries < 1)
    throw new RangeError('maxEntries must be a positive integer');
  // A Map iterates in insertion order: re-inserting on a hit makes the first key the least recently used.
  const entries = new Map<string, Entry>();

  return {
    validate(chain, trust, at) {
      // Bounds first, so a hostile chain costs no hashing either.
      const bounds = checkChainBounds(chain);
      if (bounds !== undefined) return bounds;
      const key = cacheKey(chain, trust);
      const hit = entries.get(key);
      if (hit !== undefined) {
        entries.delete(key);
        const t = at.getTime();
        const stillValid = t >= hit.validFrom && t <= hit.validTo;
        if (stillValid && !hit.fingerprints.some((fp) => trust.revokedFingerprints.has(fp))) {
          entries.set(key, hit);
          return { ok: true, ...hit.result };
        }
      }
      const result = validateChain(chain, trust, at);
      if (result.ok) {
        entries.set(key, toEntry(result));
        while (entries.size > maxEntries) {
          const oldest = entries.keys().next().value;
          if (oldest === undefined) break;
          entries.delete(oldest);
        }
      }
      return result;
    },
    get size() {
      return entries.size;
    },
    clear() {
      entries.clear();
    },
  };
}

/**
 * The partner, its anchors, and the chain bytes. Each certificate is hashed with its length before it, so that
 * the same bytes cut into certificates differently are a different key.
 */
function cacheKey(chain: readonly Uint8Array[], trust: TrustStore): string {
  const hash = createHash('sha256');
  for (const der of chain) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(der.length);
    hash.update(length).update(der);
  }
  const anchors = trust.anchors.map((a) => a.fingerprint).join(',');
  return `${trust.adminId}|${anchors}|${hash.digest('hex')}`;
}

function toEntry(result: ValidatedChain): Entry {
  const { leaf, anchor, chain } = result;
  const dated = [...chain, anchor];
  return {
    result: { leaf, anchor, chain },
    fingerprints: chain.map((c) => c.fingerprint),
    validFrom: Math.max(...dated.map((c) => c.notBefore.getTime())),
    validTo: Math.min(...dated.map((c) => c.notAfter.getTime())),
  };
}
