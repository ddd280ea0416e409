/**
 * What the evidence document copies out of a signed text for its reader: the x5c certificates in PEM and the
 * payload, read without any check. Verification (verify.ts) never trusts these: it verifies the JWS and
 * compares the copies with what is signed.
 */

function segmentJson(jws: string, index: number): Record<string, unknown> | undefined {
  const text = jws.split('.')[index];
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The payload of a compact JWS as a JSON object, unverified; undefined when it is not one. */
export function unverifiedPayload(jws: string): Record<string, unknown> | undefined {
  return segmentJson(jws, 1);
}

/** The certificates of the header's x5c (standard base64 DER), leaf first, as PEM blocks. */
export function x5cPem(jws: string): string[] {
  const x5c = segmentJson(jws, 0)?.x5c;
  if (!Array.isArray(x5c)) return [];
  return x5c
    .filter((c): c is string => typeof c === 'string')
    .map(
      (c) =>
        `-----BEGIN CERTIFICATE-----\n${(c.match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE-----\n`,
    );
}
