/**
 * Where the gateway decides a Wycheproof JWS vector (json_web_signature_test.json, C2SP/wycheproof commit
 * dac1dd47) otherwise than its label says, or where the label itself is wrong. Each entry records the label
 * as found (so that a changed vector file shows up), the exact outcome the harness must see, and why.
 * signature-vectors.test.ts asserts every entry; a vector not listed here must be decided as labelled.
 *
 * Outcomes are the gateway's rejection codes, 'accept', or 'KEY_UNUSABLE' when jose's importJWK refuses the
 * group's key (the harness's key source, standing in for the certificate a real token would carry).
 */
import type { RecordRejectionCode } from '../../src/errors.ts';

export type VectorOutcome = 'accept' | RecordRejectionCode | 'KEY_UNUSABLE';

export interface WycheproofOverride {
  tcIds: readonly number[];
  label: 'valid' | 'invalid';
  outcome: VectorOutcome;
  reason: string;
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

export const WYCHEPROOF_JWS_OVERRIDES: readonly WycheproofOverride[] = [
  {
    tcIds: [1, 348, 352, 357, 358, 359, 376, 377],
    label: 'valid',
    outcome: 'ALG_NOT_ALLOWED',
    reason:
      'HS256 is a MAC, not a signature: outside the profile (docs/protocol.md allows ES256, EdDSA, PS256); a MAC ' +
      "keyed by a partner's public key bytes is docs/threats.md 14.",
  },
  {
    tcIds: [33, ...range(259, 271), 345, 349],
    label: 'valid',
    outcome: 'ALG_NOT_ALLOWED',
    reason: 'RS256, RS384 and RS512 (PKCS #1 v1.5) are outside the profile, which allows PS256 only for RSA.',
  },
  {
    tcIds: [...range(320, 323), ...range(325, 328)],
    label: 'valid',
    outcome: 'ALG_NOT_ALLOWED',
    reason: 'PS384 and PS512 are outside the profile, which allows PS256 only.',
  },
  {
    tcIds: [346, 350],
    label: 'valid',
    outcome: 'ALG_NOT_ALLOWED',
    reason:
      'Label problem (SOURCE.md): RFC 7520 figure 20 is a PS384 token, but the group key says alg PS256, so a ' +
      'key-bound verifier must refuse it; PS384 is outside the profile anyway.',
  },
  {
    tcIds: [347, 351],
    label: 'valid',
    outcome: 'ALG_NOT_ALLOWED',
    reason:
      'Label problem (SOURCE.md): an ES512 token whose key names alg "ES521", which no registry defines; ' +
      'ES512 (P-521) is outside the profile anyway.',
  },
  {
    tcIds: [372, 373],
    label: 'valid',
    outcome: 'JWS_MALFORMED',
    reason:
      'Label problem (SOURCE.md): a "?" inserted into the header or payload segment is skipped by lenient ' +
      'decoders; the profile accepts canonical base64url only (docs/threats.md 11).',
  },
  {
    tcIds: [367, 370],
    label: 'invalid',
    outcome: 'ALG_NOT_ALLOWED',
    reason:
      'Label problem (SOURCE.md): labelled invalid for their padding, yet byte-identical to the valid 357; ' +
      'rejected here only because HS256 is outside the profile, not for their encoding.',
  },
  {
    tcIds: [354],
    label: 'invalid',
    outcome: 'accept',
    reason:
      'The EC key is marked "use": "enc", which importJWK does not read, and the verifier takes a key, not a ' +
      'JWK. The gateway never takes keys from JWKs: a key comes from a certificate whose keyUsage the chain ' +
      'check requires to allow digitalSignature (docs/threats.md 27), which is where this vector is refused.',
  },
];
