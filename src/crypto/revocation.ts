/**
 * Revocation by identity (docs/protocol.md, "Signing profile"; docs/threats.md 31 and 70). A certificate is revoked when
 * its issuer and serial number, or its public key, are listed; the fingerprint of its bytes is only a legacy
 * extra. The lookups are Set hits on values computed once when the certificate was parsed, so the chain cache
 * can repeat them on every hit and see a revocation made after it stored the chain.
 */
import {
  type CheckFailure,
  type CrlSummary,
  fail,
  type ParsedCertificate,
  type Revocation,
  type TrustStore,
} from './types.ts';

/** Why `cert` is revoked in `trust`, or undefined. */
export function revokedReason(cert: ParsedCertificate, trust: TrustStore): string | undefined {
  const r = trust.revocation;
  if (r !== undefined) {
    if (r.identities.has(cert.identity)) return `its issuer and serial number ${cert.serial} are revoked`;
    if (r.spkiSha256.has(cert.spkiSha256)) return 'its public key is revoked';
  }
  if (trust.revokedFingerprints.has(cert.fingerprint)) return 'its fingerprint is revoked';
  return undefined;
}

/**
 * Past the nextUpdate of any of the partner's CRLs nobody can say what it would list, so every chain that
 * reaches the partner's anchors fails closed until a newer list is installed.
 */
export function lapseProblem(trust: TrustStore, atMs: number): CheckFailure | undefined {
  const r = trust.revocation;
  if (r === undefined || atMs <= r.lapsesAt) return undefined;
  const lapsed = r.crls.find((c) => atMs > c.nextUpdate.getTime());
  const issuer = lapsed ? ` issued by ${lapsed.issuerName}` : '';
  return fail(
    'CERT_UNTRUSTED',
    `the revocation list of ${trust.adminId}${issuer} lapsed at ${new Date(r.lapsesAt).toISOString()}; no chain of ${trust.adminId} is trusted until a newer one is installed`,
  );
}

/** The first revoked certificate of `certs`, as a failure naming it by `label`. */
export function revocationProblem(
  certs: readonly ParsedCertificate[],
  trust: TrustStore,
  label: (i: number) => string,
): CheckFailure | undefined {
  for (const [i, cert] of certs.entries()) {
    const why = revokedReason(cert, trust);
    if (why !== undefined)
      return fail('CERT_UNTRUSTED', `${label(i)} is revoked by ${trust.adminId}: ${why}`);
  }
  return undefined;
}

/** One log alert about a partner's revocation list. */
export interface RevocationAlert {
  alert: 'crl-expiring' | 'crl-lapsed';
  partner: string;
  source: string;
  issuer: string;
  nextUpdate: string;
  message: string;
}

export const DEFAULT_LAPSE_WARNING_DAYS = 7;
const DAY_MS = 24 * 3600 * 1000;

/**
 * The alerts to log at `now`: a CRL whose nextUpdate is within the store's warningDays ('crl-expiring'), or already
 * passed ('crl-lapsed', the partner's chains are refused). Pure, so the caller decides when to log.
 */
export function revocationAlerts(stores: readonly TrustStore[], now: Date): RevocationAlert[] {
  const out: RevocationAlert[] = [];
  const t = now.getTime();
  for (const store of stores) {
    const window = (store.revocation?.warningDays ?? DEFAULT_LAPSE_WARNING_DAYS) * DAY_MS;
    for (const crl of store.revocation?.crls ?? []) {
      const next = crl.nextUpdate.getTime();
      if (t > next)
        out.push(alertOf('crl-lapsed', store.adminId, crl, 'lapsed: every chain of the partner is refused'));
      else if (next - t <= window)
        out.push(alertOf('crl-expiring', store.adminId, crl, 'lapses soon: install a newer one'));
    }
  }
  return out;
}

function alertOf(
  alert: RevocationAlert['alert'],
  partner: string,
  crl: CrlSummary,
  what: string,
): RevocationAlert {
  const nextUpdate = crl.nextUpdate.toISOString();
  return {
    alert,
    partner,
    source: crl.source,
    issuer: crl.issuerName,
    nextUpdate,
    message: `revocation list of ${partner} from ${crl.issuerName} (${crl.source}), next update ${nextUpdate}, ${what}`,
  };
}

/** Builds the Revocation of a trust store from its parts; `lapsesAt` is the earliest nextUpdate. */
export function makeRevocation(parts: {
  identities?: Iterable<string>;
  spkiSha256?: Iterable<string>;
  crls?: readonly CrlSummary[];
  warningDays?: number | undefined;
}): Revocation {
  const crls = parts.crls ?? [];
  return {
    identities: new Set(parts.identities ?? []),
    spkiSha256: new Set([...(parts.spkiSha256 ?? [])].map((h) => h.toLowerCase())),
    crls,
    lapsesAt: Math.min(Infinity, ...crls.map((c) => c.nextUpdate.getTime())),
    warningDays: parts.warningDays ?? DEFAULT_LAPSE_WARNING_DAYS,
  };
}
