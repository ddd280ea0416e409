import { describe, expect, it } from 'vitest';
import { parseCertificate } from '../../src/crypto/certificate.ts';
import { createChainCache } from '../../src/crypto/chain-cache.ts';
import { makeRevocation } from '../../src/crypto/revocation.ts';
import type { CrlSummary } from '../../src/crypto/types.ts';
import { days, makePki, NOW, trustStoreOf } from '../support/pki.ts';
import { selfSignedLeaf } from '../support/pki-cases.ts';

const crlSummary = (nextUpdate: Date): CrlSummary => ({
  source: 'test.crl',
  issuerName: 'CN=PE test root CA',
  thisUpdate: days(-1),
  nextUpdate,
  entries: 0,
});

describe('chain cache', () => {
  it('reuses a success: the second call returns the very objects of the first', () => {
    const pki = makePki({ intermediate: {} });
    const store = trustStoreOf(pki.anchors);
    const cache = createChainCache(8);
    const first = cache.validate(pki.chainDer, store, NOW);
    const second = cache.validate(
      pki.chainDer.map((d) => new Uint8Array(d)),
      store,
      days(10),
    );
    expect(first.ok && second.ok).toBe(true);
    if (!first.ok || !second.ok) return;
    // validateChain parses afresh every time, so identical objects prove nothing was validated again.
    expect(second.leaf).toBe(first.leaf);
    expect(second.chain).toBe(first.chain);
    expect(cache.size).toBe(1);
  });

  it('stops reusing once `at` passes the earliest notAfter, and before the latest notBefore', () => {
    const pki = makePki({
      intermediate: { notAfter: days(20) },
      leaf: { notBefore: days(-2), notAfter: days(100) },
    });
    const store = trustStoreOf(pki.anchors);
    const cache = createChainCache(8);
    expect(cache.validate(pki.chainDer, store, NOW).ok).toBe(true);
    const late = cache.validate(pki.chainDer, store, days(21));
    expect(late.ok || late.detail).toBe('x5c[1] expired at 2026-06-21T12:00:00.000Z');
    expect(late.ok || late.code).toBe('CERT_EXPIRED');
    expect(cache.validate(pki.chainDer, store, NOW).ok).toBe(true);
    const early = cache.validate(pki.chainDer, store, days(-3));
    expect(early.ok || early.code).toBe('CERT_EXPIRED');
    expect(early.ok || early.detail).toMatch(/^x5c\[0\] is not valid before/);
  });

  it('stops reusing when the anchor expires before the chain', () => {
    const pki = makePki({ root: { notAfter: days(5) } });
    const store = trustStoreOf(pki.anchors);
    const cache = createChainCache(8);
    expect(cache.validate(pki.chainDer, store, NOW).ok).toBe(true);
    const result = cache.validate(pki.chainDer, store, days(6));
    expect(result.ok || result.detail).toMatch(/^trust anchor 0 of PE expired/);
  });

  it('misses for another partner, and for the same partner with other anchors', () => {
    const pki = makePki();
    const cache = createChainCache(8);
    const pe = cache.validate(pki.chainDer, trustStoreOf(pki.anchors), NOW);
    const cl = cache.validate(pki.chainDer, trustStoreOf(pki.anchors, { adminId: 'CL' }), NOW);
    expect(pe.ok && cl.ok).toBe(true);
    if (!pe.ok || !cl.ok) return;
    expect(cl.leaf).not.toBe(pe.leaf);
    expect(cache.size).toBe(2);
    // Same adminId, anchors replaced (a configuration reload): the old success must not carry over.
    const otherRoot =
      selfSignedLeaf().anchors.length === 1 ? makePki({ root: { keyRole: 'other-root' } }) : pki;
    const reloaded = cache.validate(pki.chainDer, trustStoreOf(otherRoot.anchors), NOW);
    expect(reloaded.ok || reloaded.code).toBe('CERT_UNTRUSTED');
  });

  it('sees a revocation made after the success was cached', () => {
    const pki = makePki();
    const cache = createChainCache(8);
    expect(cache.validate(pki.chainDer, trustStoreOf(pki.anchors), NOW).ok).toBe(true);
    const revoked = cache.validate(pki.chainDer, trustStoreOf(pki.anchors, { revoked: [pki.leafDer] }), NOW);
    expect(revoked.ok || revoked.detail).toMatch(/^x5c\[0\] is revoked by PE: its issuer and serial number/);
  });

  it('sees a revocation added to the same store after the success was cached, and a lapse', () => {
    const pki = makePki({ intermediate: {} });
    const store = trustStoreOf(pki.anchors);
    const cache = createChainCache(8);
    expect(cache.validate(pki.chainDer, store, NOW).ok).toBe(true);
    // A reload swaps the store's revocation in place; the entry must not outlive it.
    store.revocation = makeRevocation({ identities: [parseCertificate(pki.chainDer[1]!).identity] });
    const revoked = cache.validate(pki.chainDer, store, NOW);
    expect(revoked.ok || revoked.detail).toMatch(/^x5c\[1\] is revoked by PE/);
    store.revocation = makeRevocation({ crls: [crlSummary(days(1))] });
    expect(cache.validate(pki.chainDer, store, NOW).ok).toBe(true);
    const lapsed = cache.validate(pki.chainDer, store, days(2));
    expect(lapsed.ok || lapsed.detail).toMatch(/revocation list of PE .*lapsed/);
  });

  it('keeps signing and TLS client results apart', () => {
    const pki = makePki({ leaf: { extKeyUsage: ['clientAuth'] } });
    const store = trustStoreOf(pki.anchors);
    const cache = createChainCache(8);
    expect(cache.validate(pki.chainDer, store, NOW, 'tls-client').ok).toBe(true);
    const signing = cache.validate(pki.chainDer, store, NOW);
    expect(signing.ok || signing.detail).toMatch(/TLS certificate/);
  });

  it('does not cache failures', () => {
    const pki = selfSignedLeaf();
    const cache = createChainCache(8);
    expect(cache.validate(pki.chainDer, trustStoreOf(pki.anchors), NOW).ok).toBe(false);
    expect(cache.size).toBe(0);
  });

  it('does not confuse the same bytes cut into certificates differently', () => {
    const pki = makePki({ intermediate: {} });
    const store = trustStoreOf(pki.anchors);
    const cache = createChainCache(8);
    expect(cache.validate(pki.chainDer, store, NOW).ok).toBe(true);
    const joined = new Uint8Array([...pki.chainDer[0]!, ...pki.chainDer[1]!]);
    const result = cache.validate([joined], store, NOW);
    expect(result.ok || result.detail).toMatch(/^x5c\[0\] is not a well-formed DER certificate/);
  });

  it('knows a repeated chain by its bytes, not by the arrays that carry them', () => {
    const pki = makePki({ intermediate: {} });
    const other = makePki({ intermediate: {} });
    const store = trustStoreOf(pki.anchors);
    const cache = createChainCache(8);
    const given = pki.chainDer.map((d) => new Uint8Array(d));
    const first = cache.validate(given, store, NOW);
    if (!first.ok) throw new Error(first.detail);
    // The caller's arrays are changed in place after the call: the next chain is judged by its own bytes.
    given[0]!.set(other.chainDer[0]!.subarray(0, given[0]!.length));
    const changed = cache.validate(given, store, NOW);
    // Refused when the bytes no longer make a certificate; another leaf when they do (one CA signs both).
    expect(changed.ok ? changed.leaf.fingerprint : 'refused').not.toBe(first.leaf.fingerprint);
    const again = cache.validate(pki.chainDer, store, NOW);
    expect(again.ok && again.leaf).toBe(first.leaf);
    // One byte of the intermediate differs: another chain, validated afresh (and refused).
    const tampered = pki.chainDer.map((d) => new Uint8Array(d));
    tampered[1]![tampered[1]!.length - 1]! ^= 1;
    expect(cache.validate(tampered, store, NOW).ok).toBe(false);
    // Same bytes for another partner's store: a key of its own.
    const cl = cache.validate(pki.chainDer, trustStoreOf(pki.anchors, { adminId: 'CL' }), NOW);
    expect(cl.ok && cl.leaf === first.leaf).toBe(false);
    const last = cache.validate(pki.chainDer, store, NOW);
    expect(last.ok && last.leaf).toBe(first.leaf);
  });

  it('evicts the least recently used entry', () => {
    const [a, b, c] = [makePki(), makePki(), makePki()];
    const store = trustStoreOf(a.anchors);
    const cache = createChainCache(2);
    const leafOf = (pki: typeof a) => {
      const r = cache.validate(pki.chainDer, store, NOW);
      if (!r.ok) throw new Error(r.detail);
      return r.leaf;
    };
    const firstA = leafOf(a);
    const firstB = leafOf(b);
    expect(leafOf(a)).toBe(firstA);
    leafOf(c);
    expect(cache.size).toBe(2);
    expect(leafOf(a)).toBe(firstA);
    expect(leafOf(b)).not.toBe(firstB);
  });

  it('rejects a 1 MiB certificate by size before hashing it', () => {
    const cache = createChainCache(8);
    const huge = new Uint8Array(1024 * 1024);
    const started = performance.now();
    const result = cache.validate([huge], trustStoreOf(makePki().anchors), NOW);
    expect(performance.now() - started).toBeLessThan(20);
    expect(result.ok || result.detail).toBe('x5c[0] is 1048576 bytes, at most 8192 allowed');
  });

  it('needs a positive size', () => {
    expect(() => createChainCache(0)).toThrow(RangeError);
    expect(() => createChainCache(1.5)).toThrow(RangeError);
  });
});
