/**
 * A partner of the configuration (`partners[]`) resolved for the gateway: its endpoint, its trust store
 * (anchors, issuing CAs checked against them, revocation) and its MRA.
 */
import { intermediateProblem } from '../crypto/intermediate.ts';
import type { ParsedCertificate, TrustStore } from '../crypto/types.ts';
import type { Mra, Partner } from '../mra/types.ts';
import { parseCertificates, readConfiguredText } from './files.ts';
import { invalid } from './invalid.ts';
import type { RawPartner } from './raw.ts';
import { attachRevocation } from './revocation.ts';

/** `partners[i]` at `field`; `at` resolves a configured path, `mtls` is the server's mutual TLS setting. */
export function resolvePartner(
  raw: RawPartner,
  field: string,
  at: (p: string) => string,
  mtls: boolean,
): Partner {
  const endpoint = checkEndpoint(raw.endpoint, `${field}/endpoint`, mtls);
  const anchors = raw.trustAnchors.flatMap((p, i) =>
    parseCertificates(readConfiguredText(at(p), `${field}/trustAnchors/${i}`), `${field}/trustAnchors/${i}`),
  );
  const trust: TrustStore = { adminId: raw.adminId, anchors, revokedFingerprints: new Set() };
  const intermediates = resolveIntermediates(raw, field, at, trust);
  // CRLs are signed by the root or by an issuing CA: both are known only once the intermediates are checked.
  attachRevocation(trust, raw.revocation, raw.revocationList, field, at, [...anchors, ...intermediates]);
  return {
    adminId: raw.adminId,
    name: raw.name,
    endpoint,
    trust,
    intermediates,
    mra: resolveMra(raw, `${field}/mra`),
  };
}

/**
 * A partner's base URL: every partner route is under `/mra/v1`, so an endpoint without it would dead-letter
 * every delivery. Under mutual TLS it must be https; plain http is for local tests with `server.mtls: false`.
 */
function checkEndpoint(text: string, field: string, mtls: boolean): string {
  const endpoint = text.replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw invalid(`${field}: ${text} is not a URL`);
  }
  if (!url.pathname.endsWith('/mra/v1') || url.search !== '' || url.hash !== '')
    throw invalid(`${field}: ${text} must be the partner's base URL ending in /mra/v1 (https://host/mra/v1)`);
  if (mtls && url.protocol !== 'https:')
    throw invalid(
      `${field}: ${text} must use https under mutual TLS (plain http only with "server.mtls: false")`,
    );
  return endpoint;
}

function resolveIntermediates(
  raw: RawPartner,
  field: string,
  at: (p: string) => string,
  trust: TrustStore,
): ParsedCertificate[] {
  return (raw.intermediates ?? []).flatMap((p, i) => {
    const where = `${field}/intermediates/${i}`;
    const certs = parseCertificates(readConfiguredText(at(p), where), where);
    for (const [n, cert] of certs.entries()) {
      const problem = intermediateProblem(cert, trust);
      const which = certs.length > 1 ? ` (certificate ${n + 1} of the file)` : '';
      if (problem !== undefined)
        throw invalid(`${where}: not an issuing CA of ${raw.adminId}${which}: ${problem}`);
    }
    return certs;
  });
}

function resolveMra(raw: RawPartner, field: string): Mra {
  const m = raw.mra;
  const from = new Date(`${m.inForceFrom}T00:00:00Z`);
  const until = m.inForceUntil === undefined ? undefined : new Date(`${m.inForceUntil}T00:00:00Z`);
  if (until !== undefined) {
    until.setUTCDate(until.getUTCDate() + 1);
    if (until <= from) throw invalid(`${field}/inForceUntil: must not be before inForceFrom`);
  }
  return {
    id: m.id,
    inForceFrom: from,
    inForceUntil: until,
    status: m.status,
    programmes: new Set(m.scope.programmes),
    roles: new Set(m.scope.roles),
    benefits: (m.benefits ?? []).map((b) => ({ id: b.id, description: b.description, roles: b.roles })),
  };
}
