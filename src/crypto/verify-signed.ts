/**
 * Verifies a signed object of the exchange (record, receipt, request token) end to end: the strict pre-check,
 * the x5c chain against the trust stores of the partners it may come from, the signature over the exact bytes
 * received, and a strict parse of the payload. Which partner signed is decided by the anchors, never by
 * anything the token says about itself. A batch's signatures are verified together (verifySignedObjects).
 */
import { leafKeyMatchesAlg, validateChain } from './chain.ts';
import type { ChainCache } from './chain-cache.ts';
import { type JwsProfile, type PrecheckedJws, precheckCompactJws } from './compact-jws.ts';
import { verifyJwsSignatures } from './jws-verify.ts';
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
  const [result] = await verifySignedObjects([token], options);
  return result!;
}

/**
 * verifySignedObject for each of many tokens under the same options (a partner's batch): every check but the
 * signature runs here token by token, then the signatures of those that passed go to the verification pool
 * together, and each result comes back in the order of `tokens`.
 */
export async function verifySignedObjects(
  tokens: readonly unknown[],
  options: VerifyOptions,
): Promise<CheckResult<VerifiedObject>[]> {
  const results: CheckResult<VerifiedObject>[] = [];
  const signed: { index: number; pre: PrecheckedJws; leaf: ParsedCertificate; signer: string }[] = [];
  for (const [index, token] of tokens.entries()) {
    const checked = checkBeforeSignature(token, options);
    if (checked.ok) signed.push({ index, ...checked });
    else results[index] = checked;
  }
  const verdicts = await verifyJwsSignatures(
    signed.map(({ pre, leaf }) => ({ jws: pre, key: leaf.publicKey })),
  );
  for (const [i, { index, pre, leaf, signer }] of signed.entries()) {
    if (verdicts[i] !== true) {
      results[index] = fail('SIGNATURE_INVALID', 'the signature does not verify with the key of x5c[0]');
      continue;
    }
    const parsed = parseStrictJsonObject(pre.payloadBytes, { maxDepth: MAX_JSON_DEPTH });
    results[index] = parsed.ok
      ? { ok: true, signer, leaf, payloadBytes: pre.payloadBytes, payload: parsed.value }
      : fail('SCHEMA_INVALID', `payload: ${parsed.detail}`);
  }
  return results;
}

/** Everything of verifySignedObject before the signature: the precheck, the chain, kid, the key's fit to alg. */
function checkBeforeSignature(
  token: unknown,
  options: VerifyOptions,
): CheckResult<{ pre: PrecheckedJws; leaf: ParsedCertificate; signer: string }> {
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
  return { ok: true, pre, leaf, signer };
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
