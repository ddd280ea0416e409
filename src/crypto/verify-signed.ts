/**
 * Verifies a signed object of the exchange (record, receipt, request token) end to end: the strict pre-check,
 * the x5c chain against the trust stores of the partners it may come from, the signature over the exact bytes
 * received, and a strict parse of the payload. Which partner signed is decided by the anchors, never by
 * anything the token says about itself.
 */
import { leafKeyMatchesAlg, validateChain } from './chain.ts';
import type { ChainCache } from './chain-cache.ts';
import { type JwsProfile, precheckCompactJws } from './compact-jws.ts';
import { verifyJwsSignature } from './jws-verify.ts';
import { parseStrictJsonObject } from './strict-json.ts';
import {
  type CheckResult,
  fail,
  type ParsedCertificate,
  type SigningAlgorithm,
  type TrustStore,
} from './types.ts';

/** Nesting limit of signed headers and payloads (docs/protocol.md, signing profile). */
export const MAX_JSON_DEPTH = 16;

export interface VerifiedObject {
  /** adminId of the trust store the chain led to. */
  signer: string;
  leaf: ParsedCertificate;
  payloadBytes: Uint8Array;
  payload: unknown;
}

export interface VerifyOptions {
  profile: JwsProfile;
  /** Stores to try, most likely first (the TLS peer's, when known). */
  stores: readonly TrustStore[];
  at: Date;
  cache?: ChainCache;
}

export async function verifySignedObject(
  token: unknown,
  options: VerifyOptions,
): Promise<CheckResult<VerifiedObject>> {
  const pre = precheckCompactJws(token, options.profile);
  if (!pre.ok) return pre;

  const chained = chainToStores(pre.x5c, options);
  if (!chained.ok) return chained;
  const { leaf, signer } = chained;

  if (pre.kid !== leaf.thumbprint)
    return fail('HEADER_INVALID', 'kid is not the SHA-256 thumbprint of x5c[0]');
  if (!leafFits(leaf, pre.alg)) {
    return fail('ALG_NOT_ALLOWED', `alg ${pre.alg} does not match the key type of the signing certificate`);
  }
  if (!(await verifyJwsSignature(pre, leaf.publicKey))) {
    return fail('SIGNATURE_INVALID', 'the signature does not verify with the key of x5c[0]');
  }

  const parsed = parseStrictJsonObject(pre.payloadBytes, { maxDepth: MAX_JSON_DEPTH });
  if (!parsed.ok) return fail('SCHEMA_INVALID', `payload: ${parsed.detail}`);
  return { ok: true, signer, leaf, payloadBytes: pre.payloadBytes, payload: parsed.value };
}

/**
 * leafKeyMatchesAlg, judged once per certificate and algorithm: the chain cache hands back the same parsed
 * certificate for every record of a chain, and reading a key's details is a call into node:crypto each time.
 */
const fitsByLeaf = new WeakMap<ParsedCertificate, Map<SigningAlgorithm, boolean>>();

function leafFits(leaf: ParsedCertificate, alg: SigningAlgorithm): boolean {
  let byAlg = fitsByLeaf.get(leaf);
  if (byAlg === undefined) {
    byAlg = new Map();
    fitsByLeaf.set(leaf, byAlg);
  }
  let fits = byAlg.get(alg);
  if (fits === undefined) {
    fits = leafKeyMatchesAlg(leaf, alg);
    byAlg.set(alg, fits);
  }
  return fits;
}

function chainToStores(
  x5c: readonly Uint8Array[],
  options: VerifyOptions,
): CheckResult<{ leaf: ParsedCertificate; signer: string }> {
  let firstFailure: CheckResult<never> | undefined;
  for (const store of options.stores) {
    const result = options.cache
      ? options.cache.validate(x5c, store, options.at)
      : validateChain(x5c, store, options.at);
    if (result.ok) return { ok: true, leaf: result.leaf, signer: store.adminId };
    // A chain that reached a store's anchor but is out of date says more than "untrusted" elsewhere.
    if (firstFailure === undefined || result.code === 'CERT_EXPIRED') firstFailure = result;
  }
  return firstFailure ?? fail('CERT_UNTRUSTED', 'no partner is configured to trust this chain');
}
