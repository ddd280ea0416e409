/**
 * The chain cache. Validating a chain costs several signature verifications and two parsers per certificate,
 * while a partner signs thousands of records with the same few chains. A success is remembered for the same
 * chain bytes, the same trust anchors and the same purpose, and reused only while the time checked is inside
 * every certificate's validity, the partner's revocation lists are current, and none of the chain has since
 * been revoked (by identity, key or fingerprint: Set lookups on the parsed certificates kept in the entry).
 * Failures are never remembered, so the cache cannot turn a rejection into an acceptance or outlive the rules.
 */
import { createHash } from 'node:crypto';
import { checkChainBounds, type ValidatedChain, validateChain } from './chain.ts';
import { lapseProblem, revocationProblem, revokedReason } from './revocation.ts';
import type { ChainPurpose, CheckResult, TrustStore } from './types.ts';

export interface ChainCache {
  /** Same contract as validateChain. */
  validate(
    chain: readonly Uint8Array[],
    trust: TrustStore,
    at: Date,
    purpose?: ChainPurpose,
  ): CheckResult<ValidatedChain>;
  readonly size: number;
  clear(): void;
}

interface Entry {
  result: ValidatedChain;
  /** Latest notBefore and earliest notAfter, in ms, over the chain and the anchor. */
  validFrom: number;
  validTo: number;
}

export function createChainCache(maxEntries: number): ChainCache {
  if (!Number.isInteger(maxEntries) || maxEntries < 1)
    throw new RangeError('maxEntries must be a positive integer');
  // A Map iterates in insertion order: re-inserting on a hit makes the first key the least recently used.
  const entries = new Map<string, Entry>();
  // The key last computed and what it was computed from: a partner signs record after record with the same
  // chain, so the next lookup usually carries the very same bytes, and comparing them costs far less than
  // hashing them again. Equal inputs give the equal key, so the entry found is the one hashing would find.
  let last: { chain: readonly Uint8Array[]; prefix: string; key: string } | undefined;
  const keyOf = (chain: readonly Uint8Array[], trust: TrustStore, purpose: ChainPurpose): string => {
    const prefix = keyPrefix(trust, purpose);
    if (last !== undefined && last.prefix === prefix && sameBytes(last.chain, chain)) return last.key;
    const key = `${prefix}${chainHash(chain)}`;
    last = { chain: chain.map((der) => new Uint8Array(der)), prefix, key };
    return key;
  };

  return {
    validate(chain, trust, at, purpose = 'signing') {
      // Bounds first, so a hostile chain costs no hashing either.
      const bounds = checkChainBounds(chain);
      if (bounds !== undefined) return bounds;
      const key = keyOf(chain, trust, purpose);
      const hit = entries.get(key);
      if (hit !== undefined) {
        entries.delete(key);
        const t = at.getTime();
        const { chain: certs, anchor } = hit.result;
        const stillValid =
          t >= hit.validFrom &&
          t <= hit.validTo &&
          lapseProblem(trust, t) === undefined &&
          revocationProblem(certs, trust, String) === undefined &&
          revokedReason(anchor, trust) === undefined;
        if (stillValid) {
          entries.set(key, hit);
          return { ok: true, ...hit.result };
        }
      }
      const result = validateChain(chain, trust, at, purpose);
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
      last = undefined;
    },
  };
}

/**
 * The key: the partner, its anchors, the purpose and the chain bytes. Each certificate is hashed with its length
 * before it, so that the same bytes cut into certificates differently are a different key.
 */
function keyPrefix(trust: TrustStore, purpose: ChainPurpose): string {
  const anchors = trust.anchors.map((a) => a.fingerprint).join(',');
  return `${trust.adminId}|${purpose}|${anchors}|`;
}

function chainHash(chain: readonly Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const der of chain) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(der.length);
    hash.update(length).update(der);
  }
  return hash.digest('hex');
}

function sameBytes(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.length !== y.length || Buffer.compare(x, y) !== 0) return false;
  }
  return true;
}

function toEntry(result: ValidatedChain): Entry {
  const { leaf, anchor, chain } = result;
  const dated = [...chain, anchor];
  return {
    result: { leaf, anchor, chain },
    validFrom: Math.max(...dated.map((c) => c.notBefore.getTime())),
    validTo: Math.min(...dated.map((c) => c.notAfter.getTime())),
  };
}
