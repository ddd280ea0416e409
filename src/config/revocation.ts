/**
 * A partner's revocation configuration (`partners[].revocation`, and the deprecated `revocationList`) read into
 * the trust store: every revoked certificate is known by its identity (issuer and serial) and, when the
 * certificate itself is given, by its key; CRLs are checked against the partner's CA certificates here, so a
 * wrong or forged file stops the start with the field named.
 */
import { statSync } from 'node:fs';
import { parsePemCertificates } from '../crypto/certificate.ts';
import { crlsInFile, parseCrl } from '../crypto/crl.ts';
import { crlIssuer, revokedIdentities } from '../crypto/crl-issuer.ts';
import { makeRevocation } from '../crypto/revocation.ts';
import type { CrlSummary, ParsedCertificate, Revocation, TrustStore } from '../crypto/types.ts';
import { readConfiguredFile } from './files.ts';
import { invalid } from './invalid.ts';

export interface RawRevocation {
  /** CRL files (PEM `X509 CRL` blocks or DER) signed by one of the partner's CA certificates. */
  crls?: string[];
  /** PEM files of revoked certificates: each is revoked by issuer and serial, and by its key. */
  certificates?: string[];
  /** Hex SHA-256 of revoked SubjectPublicKeyInfos. */
  spkiSha256?: string[];
  lapseWarningDays?: number;
}

export interface ResolvedRevocation {
  revokedFingerprints: ReadonlySet<string>;
  revocation: Revocation | undefined;
}

/**
 * `caCertificates`: the partner's anchors and configured issuing CAs, the only keys a CRL may be signed with.
 * `legacyList`: path of the deprecated fingerprint file.
 */
export function resolveRevocation(
  raw: RawRevocation | undefined,
  legacyList: string | undefined,
  field: string,
  at: (p: string) => string,
  caCertificates: readonly ParsedCertificate[],
): ResolvedRevocation {
  const identities: string[] = [];
  const spki: string[] = [...(raw?.spkiSha256 ?? [])];
  const given: ParsedCertificate[] = [];
  for (const [i, path] of (raw?.certificates ?? []).entries()) {
    const name = `${field}/revocation/certificates/${i}`;
    const text = readFile(at(path), name).toString('utf8');
    try {
      given.push(...parsePemCertificates(text));
    } catch (cause) {
      throw invalid(`${name}: not a PEM certificate file: ${(cause as Error).message}`);
    }
  }
  for (const cert of given) {
    identities.push(cert.identity);
    spki.push(cert.spkiSha256);
  }
  const crls: CrlSummary[] = [];
  for (const [i, path] of (raw?.crls ?? []).entries()) {
    const name = `${field}/revocation/crls/${i}`;
    const file = at(path);
    const bytes = readFile(file, name);
    let ders: Uint8Array[];
    try {
      ders = crlsInFile(bytes);
    } catch (cause) {
      throw invalid(`${name}: ${file} is not a CRL file: ${(cause as Error).message}`);
    }
    for (const [n, der] of ders.entries()) {
      const which = ders.length > 1 ? ` (CRL ${n + 1} of ${ders.length})` : '';
      let crl: ReturnType<typeof parseCrl>;
      try {
        crl = parseCrl(der);
      } catch (cause) {
        throw invalid(`${name}: ${file}${which} is refused: ${(cause as Error).message}`);
      }
      const issuer = crlIssuer(crl, caCertificates);
      if (!issuer.ok) throw invalid(`${name}: ${file}${which} is refused: ${issuer.detail}`);
      identities.push(...revokedIdentities(crl));
      crls.push({
        source: file,
        issuerName: crl.issuerName,
        thisUpdate: crl.thisUpdate,
        nextUpdate: crl.nextUpdate,
        entries: crl.serials.length,
      });
    }
  }
  const fingerprints = legacyFingerprints(legacyList, `${field}/revocationList`, at);
  // A fingerprint names one encoding; a re-encoded copy of the same certificate would slip past it. So each
  // must name a certificate the configuration holds, whose identity and key are then revoked as well.
  const readable = new Map([...given, ...caCertificates].map((c) => [c.fingerprint, c]));
  for (const [fingerprint, line] of fingerprints) {
    const cert = readable.get(fingerprint);
    if (cert === undefined) {
      throw invalid(
        `${field}/revocationList: line ${line} names a certificate by fingerprint only, which a re-encoded copy escapes; add the certificate to ${field}/revocation/certificates (or its issuer's CRL to ${field}/revocation/crls)`,
      );
    }
    identities.push(cert.identity);
    spki.push(cert.spkiSha256);
  }
  const any = raw !== undefined || fingerprints.size > 0;
  return {
    revokedFingerprints: new Set(fingerprints.keys()),
    revocation: any
      ? makeRevocation({ identities, spkiSha256: spki, crls, warningDays: raw?.lapseWarningDays })
      : undefined,
  };
}

/** How to read a store's revocation again, and the files' state when it was last read. */
interface Source {
  files: readonly string[];
  stamps: string[];
  rebuild(): ResolvedRevocation;
}
const sources = new WeakMap<TrustStore, Source>();

/**
 * resolveRevocation for `trust`, installed in it, and remembered so that reloadRevocation can read the same
 * files again when they change.
 */
export function attachRevocation(
  trust: TrustStore,
  raw: RawRevocation | undefined,
  legacyList: string | undefined,
  field: string,
  at: (p: string) => string,
  caCertificates: readonly ParsedCertificate[],
): void {
  const rebuild = () => resolveRevocation(raw, legacyList, field, at, caCertificates);
  const files = [...(raw?.crls ?? []), ...(raw?.certificates ?? []), ...(legacyList ? [legacyList] : [])].map(
    at,
  );
  const stamps = files.map(stampOf);
  const resolved = rebuild();
  trust.revokedFingerprints = resolved.revokedFingerprints;
  trust.revocation = resolved.revocation;
  if (files.length > 0) sources.set(trust, { files, stamps, rebuild });
}

export interface ReloadOutcome {
  adminId: string;
  ok: boolean;
  /** The configuration error when the new files were refused; the previous revocation stays in force. */
  error?: string;
}

/**
 * Reads a store's revocation files again when any of them changed (modification time or size) since they were
 * last read. A change that fails to load keeps the previous revocation in force (it lapses at its own
 * nextUpdate) and is reported once, until the files change again.
 */
export function reloadRevocation(stores: readonly TrustStore[]): ReloadOutcome[] {
  const out: ReloadOutcome[] = [];
  for (const trust of stores) {
    const source = sources.get(trust);
    if (source === undefined) continue;
    const stamps = source.files.map(stampOf);
    if (stamps.every((s, i) => s === source.stamps[i])) continue;
    source.stamps = stamps;
    try {
      const resolved = source.rebuild();
      trust.revokedFingerprints = resolved.revokedFingerprints;
      trust.revocation = resolved.revocation;
      out.push({ adminId: trust.adminId, ok: true });
    } catch (error) {
      out.push({ adminId: trust.adminId, ok: false, error: (error as Error).message });
    }
  }
  return out;
}

function stampOf(path: string): string {
  try {
    const s = statSync(path);
    return `${s.mtimeMs}/${s.size}`;
  } catch {
    return 'missing';
  }
}

/** Fingerprint → line number, from the deprecated one-fingerprint-a-line file. */
function legacyFingerprints(
  path: string | undefined,
  field: string,
  at: (p: string) => string,
): Map<string, number> {
  const out = new Map<string, number>();
  if (path === undefined) return out;
  const text = readFile(at(path), field).toString('utf8');
  for (const [n, line] of text.split('\n').entries()) {
    const entry = line.replace(/#.*/, '').trim().toLowerCase().replaceAll(':', '');
    if (entry === '') continue;
    if (!/^[0-9a-f]{64}$/.test(entry)) {
      throw invalid(`${field}: line ${n + 1} is not a SHA-256 certificate fingerprint`);
    }
    if (!out.has(entry)) out.set(entry, n + 1);
  }
  return out;
}

function readFile(path: string, field: string): Buffer {
  return readConfiguredFile(path, field);
}
