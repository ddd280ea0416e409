/**
 * docs/threats.md 31 and 70: revocation by identity (issuer and serial) and by key, never by the bytes of one
 * encoding; CRL files read strictly and checked against the partner's CA certificates; a lapsed CRL fails
 * closed and is announced before it lapses.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { attachRevocation, reloadRevocation, resolveRevocation } from '../../src/config/revocation.ts';
import { toPem } from '../../src/crypto/cert-builder.ts';
import { parseCertificate } from '../../src/crypto/certificate.ts';
import { validateChain } from '../../src/crypto/chain.ts';
import { createChainCache } from '../../src/crypto/chain-cache.ts';
import { buildCrl, type CrlOptions } from '../../src/crypto/crl-builder.ts';
import { makeRevocation, revocationAlerts } from '../../src/crypto/revocation.ts';
import type { ParsedCertificate, TrustStore } from '../../src/crypto/types.ts';
import { GatewayError } from '../../src/errors.ts';
import { watchRevocationLists } from '../../src/inbound/revocation-watch.ts';
import type { Partner } from '../../src/mra/types.ts';
import { expectFailure } from '../support/chain-assert.ts';
import { days, makePki, NOW, type TestPki, trustStoreOf } from '../support/pki.ts';
import { withHighSTwin } from '../support/reencode.ts';

const dir = mkdtempSync(join(tmpdir(), 'mra-crl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pki = makePki({ intermediate: {} });
const root = parseCertificate(pki.rootDer);
const issuing = parseCertificate(pki.intermediateDer!);
const leaf = parseCertificate(pki.leafDer);

/** A CRL of the issuing CA (or of `by`), current at NOW unless told otherwise. */
function crlOf(serials: readonly string[], o: Partial<CrlOptions> & { by?: 'root' | 'issuing' } = {}) {
  const by = o.by ?? 'issuing';
  return buildCrl({
    issuerName: by === 'root' ? root.subjectDer : issuing.subjectDer,
    issuerPrivateKey: by === 'root' ? pki.rootKey : pki.intermediateKey!,
    thisUpdate: days(-1),
    nextUpdate: days(6),
    revoked: serials.map((serial) => ({ serial })),
    ...o,
  });
}

let files = 0;
function file(content: string | Uint8Array): string {
  const path = join(dir, `f${files++}`);
  writeFileSync(path, content);
  return path;
}

/** Loads CRL files the way the configuration does, for a partner with `pki`'s root and issuing CA. */
function storeWith(crls: string[], cas: ParsedCertificate[] = [root, issuing]): TrustStore {
  const { revokedFingerprints, revocation } = resolveRevocation(
    { crls },
    undefined,
    '/partners/0',
    (p) => p,
    cas,
  );
  return { adminId: 'PE', anchors: [root], revokedFingerprints, revocation };
}

function loadError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe('CONFIG_INVALID');
    return (error as Error).message;
  }
  throw new Error('expected a configuration error');
}

describe('70: revocation by identity', () => {
  it('a revoked leaf or intermediate re-encoded with the (r, n − s) signature twin is still revoked', () => {
    const twinLeaf = withHighSTwin(pki.leafDer);
    const twinIssuing = withHighSTwin(pki.intermediateDer!);
    expect(Buffer.from(twinLeaf).equals(Buffer.from(pki.leafDer))).toBe(false);
    // Both copies are good certificates: unrevoked, the twins validate.
    expect(validateChain([twinLeaf, twinIssuing], trustStoreOf(pki.anchors), NOW).ok).toBe(true);
    const leafRevoked = trustStoreOf(pki.anchors, { revoked: [pki.leafDer] });
    expectFailure(
      validateChain([twinLeaf, pki.intermediateDer!], leafRevoked, NOW),
      'CERT_UNTRUSTED',
      /^x5c\[0\] is revoked by PE: its issuer and serial number/,
    );
    // The same rule for a TLS client at the handshake (src/http/peer.ts validates with 'tls-client').
    expectFailure(
      createChainCache(2).validate([twinLeaf, pki.intermediateDer!], leafRevoked, NOW, 'tls-client'),
      'CERT_UNTRUSTED',
      /^x5c\[0\] is revoked by PE/,
    );
    const issuingRevoked = trustStoreOf(pki.anchors, { revoked: [pki.intermediateDer!] });
    expectFailure(
      validateChain([pki.leafDer, twinIssuing], issuingRevoked, NOW),
      'CERT_UNTRUSTED',
      /^x5c\[1\] is revoked by PE/,
    );
  });

  it('the deprecated fingerprint alone misses the twin; listing the certificate catches it', () => {
    const twin = withHighSTwin(pki.leafDer);
    const byBytes = trustStoreOf(pki.anchors, { revokedFingerprints: [pki.leafDer] });
    expect(validateChain([twin, pki.intermediateDer!], byBytes, NOW).ok).toBe(true);
    const certFile = file(toPem(pki.leafDer));
    const list = file(`${leaf.fingerprint}\n`);
    const loaded = resolveRevocation({ certificates: [certFile] }, list, '/partners/0', (p) => p, [root]);
    const store = { adminId: 'PE', anchors: [root], ...loaded };
    expectFailure(validateChain([twin, pki.intermediateDer!], store, NOW), 'CERT_UNTRUSTED', /revoked by PE/);
    expect(loadError(() => resolveRevocation(undefined, list, '/partners/0', (p) => p, [root]))).toMatch(
      /\/partners\/0\/revocationList: line 1 names a certificate by fingerprint only/,
    );
  });

  it('a revoked key stays revoked in another certificate, the same serial of another issuer does not', () => {
    const sameKey = makePki({ intermediate: {}, leaf: { name: { commonName: 'renewed' } } });
    const byKey = trustStoreOf(sameKey.anchors, {
      revocation: makeRevocation({ spkiSha256: [leaf.spkiSha256] }),
    });
    expectFailure(
      check(sameKey, byKey),
      'CERT_UNTRUSTED',
      /^x5c\[0\] is revoked by PE: its public key is revoked/,
    );
    const a = makePki({ leaf: { serial: '1234' } });
    const b = makePki({ intermediate: {}, leaf: { serial: '1234' } });
    const store = trustStoreOf(a.anchors, { revoked: [a.leafDer] });
    expect(check(a, store).ok).toBe(false);
    expect(check(b, { ...store, anchors: b.anchors }).ok).toBe(true);
  });

  it('the cache sees revocation by identity on every hit', () => {
    const cache = createChainCache(4);
    const store = trustStoreOf(pki.anchors);
    const twin = [withHighSTwin(pki.leafDer), pki.intermediateDer!];
    expect(cache.validate(twin, store, NOW).ok).toBe(true);
    store.revocation = makeRevocation({ identities: [leaf.identity] });
    expectFailure(cache.validate(twin, store, NOW), 'CERT_UNTRUSTED', /^x5c\[0\] is revoked by PE/);
  });
});

const check = (p: TestPki, store: TrustStore) => validateChain(p.chainDer, store, NOW);

describe('CRL files', () => {
  it('a CRL of the issuing CA, in PEM or in DER, revokes a leaf and its re-encoded twin', () => {
    const der = crlOf([leaf.serial]);
    for (const path of [file(der), file(toPem(der, 'X509 CRL'))]) {
      const store = storeWith([path]);
      expect(store.revocation?.crls).toHaveLength(1);
      for (const chain of [pki.chainDer, [withHighSTwin(pki.leafDer), pki.intermediateDer!]]) {
        expectFailure(validateChain(chain, store, NOW), 'CERT_UNTRUSTED', /^x5c\[0\] is revoked by PE/);
      }
    }
  });

  it('a root CRL revokes the issuing CA; a CRL not listing the chain leaves it trusted', () => {
    const store = storeWith([file(crlOf([issuing.serial], { by: 'root' })), file(crlOf(['7', '8']))]);
    expectFailure(validateChain(pki.chainDer, store, NOW), 'CERT_UNTRUSTED', /^x5c\[1\] is revoked by PE/);
    const other = storeWith([file(crlOf(['7', '8']))]);
    expect(validateChain(pki.chainDer, other, NOW).ok).toBe(true);
  });

  it('a CRL with a bad signature, from another CA, or under a name nobody configured is refused at load', () => {
    const good = crlOf([leaf.serial]);
    const tampered = new Uint8Array(good);
    tampered[tampered.length - 5]! ^= 0x01;
    expect(loadError(() => storeWith([file(tampered)]))).toMatch(
      /^configuration: \/partners\/0\/revocation\/crls\/0: .* is refused: its signature does not verify/,
    );
    const stranger = makePki({ root: { keyRole: 'crl-stranger', name: { commonName: 'CL other root' } } });
    // Signed by another CA's key under the issuing CA's name.
    const forged = crlOf([leaf.serial], { issuerPrivateKey: stranger.rootKey });
    expect(loadError(() => storeWith([file(forged)]))).toMatch(/crls\/0: .*signature does not verify/);
    const foreign = buildCrl({
      issuerName: parseCertificate(stranger.rootDer).subjectDer,
      issuerPrivateKey: stranger.rootKey,
      thisUpdate: days(-1),
      nextUpdate: days(6),
    });
    expect(loadError(() => storeWith([file(foreign)], [root]))).toMatch(
      /none of the partner's configured CA/,
    );
    expect(loadError(() => storeWith([file(good)], [root]))).toMatch(/none of the partner's configured CA/);
  });

  it('refuses delta, indirect and partial CRLs, unknown critical extensions, no nextUpdate, junk', () => {
    const ext = (oid: string, critical: boolean, valueDer: Uint8Array) => ({ oid, critical, valueDer });
    const cases: [Uint8Array | string, RegExp][] = [
      [crlOf([], { extensions: [ext('2.5.29.27', true, Uint8Array.of(2, 1, 1))] }), /delta CRL/],
      [
        crlOf([], { extensions: [ext('2.5.29.28', true, Uint8Array.of(0x30, 3, 0x84, 1, 0xff))] }),
        /indirect CRL/,
      ],
      [
        crlOf([], { extensions: [ext('2.5.29.28', true, Uint8Array.of(0x30, 3, 0x83, 1, 0x40))] }),
        /only some/,
      ],
      [
        crlOf([], { extensions: [ext('1.3.6.1.4.1.55555.9', true, Uint8Array.of(5, 0))] }),
        /unknown critical/,
      ],
      [
        crlOf([], {
          revoked: [{ serial: '5', extensions: [ext('2.5.29.29', true, Uint8Array.of(0x30, 0))] }],
        }),
        /indirect CRL/,
      ],
      [
        crlOf([], {
          revoked: [{ serial: '5', extensions: [ext('1.3.6.1.4.1.55555.8', true, Uint8Array.of(5, 0))] }],
        }),
        /unknown critical extension/,
      ],
      [crlOf([], { nextUpdate: null }), /no nextUpdate/],
      [toPem(pki.leafDer), /not a CRL file/],
      [crlOf([], { hash: 'sha1', issuerPrivateKey: pki.intermediateKey! }), /ecdsa-with-SHA1/],
    ];
    for (const [content, detail] of cases)
      expect(loadError(() => storeWith([file(content)]))).toMatch(detail);
  });
});

describe('nextUpdate', () => {
  it('past nextUpdate every chain of the partner is refused, cached or not', () => {
    const store = storeWith([file(crlOf([], { nextUpdate: days(2) }))]);
    const cache = createChainCache(4);
    expect(cache.validate(pki.chainDer, store, NOW).ok).toBe(true);
    for (const result of [
      validateChain(pki.chainDer, store, days(3)),
      cache.validate(pki.chainDer, store, days(3)),
    ]) {
      expectFailure(result, 'CERT_UNTRUSTED', /^the revocation list of PE issued by .*lapsed at/);
    }
  });

  it('alerts from lapseWarningDays before nextUpdate, and once it has lapsed', () => {
    const path = file(crlOf([], { nextUpdate: days(6) }));
    const { revocation } = resolveRevocation(
      { crls: [path], lapseWarningDays: 3 },
      undefined,
      '/partners/0',
      (p) => p,
      [root, issuing],
    );
    const stores: TrustStore[] = [
      { adminId: 'PE', anchors: [root], revokedFingerprints: new Set(), revocation },
    ];
    expect(revocationAlerts(stores, NOW)).toEqual([]);
    const soon = revocationAlerts(stores, days(4));
    expect(soon).toEqual([
      expect.objectContaining({
        alert: 'crl-expiring',
        partner: 'PE',
        source: path,
        nextUpdate: days(6).toISOString(),
      }),
    ]);
    expect(soon[0]!.message).toMatch(/lapses soon/);
    expect(revocationAlerts(stores, days(7))).toEqual([
      expect.objectContaining({ alert: 'crl-lapsed', partner: 'PE' }),
    ]);
  });
});

describe('reloading revocation files', () => {
  it('a changed CRL file takes effect in the same store, cached chains included; a bad one keeps the old', () => {
    const path = file(crlOf(['77']));
    const trust: TrustStore = { adminId: 'PE', anchors: [root], revokedFingerprints: new Set() };
    attachRevocation(trust, { crls: [path] }, undefined, '/partners/0', (p) => p, [root, issuing]);
    const cache = createChainCache(4);
    expect(cache.validate(pki.chainDer, trust, NOW).ok).toBe(true);
    expect(reloadRevocation([trust])).toEqual([]);
    writeFileSync(path, crlOf(['77', leaf.serial]));
    expect(reloadRevocation([trust])).toEqual([{ adminId: 'PE', ok: true }]);
    expectFailure(cache.validate(pki.chainDer, trust, NOW), 'CERT_UNTRUSTED', /^x5c\[0\] is revoked by PE/);
    writeFileSync(path, 'not a CRL');
    const [refused] = reloadRevocation([trust]);
    expect(refused).toEqual({
      adminId: 'PE',
      ok: false,
      error: expect.stringMatching(/crls\/0: .*not a CRL file/),
    });
    expect(reloadRevocation([trust])).toEqual([]);
    expect(validateChain(pki.chainDer, trust, NOW).ok).toBe(false);
  });

  it('the watch logs the alerts at start', () => {
    const lines: [string, Record<string, unknown>, string][] = [];
    const log = {
      error: (fields: Record<string, unknown>, msg: string) => lines.push(['error', fields, msg]),
      warn: (fields: Record<string, unknown>, msg: string) => lines.push(['warn', fields, msg]),
      info: () => {},
    } as unknown as Logger;
    const lapsed = storeWith([file(crlOf([], { thisUpdate: days(-9), nextUpdate: days(-1) }))]);
    const expiring = { ...storeWith([file(crlOf([], { nextUpdate: days(2) }))]), adminId: 'CL' };
    const partners = [lapsed, expiring].map((trust) => ({ adminId: trust.adminId, trust }) as Partner);
    const stop = watchRevocationLists(partners, log, { clock: () => NOW });
    stop();
    expect(lines.map(([level, fields]) => [level, fields.alert, fields.partner])).toEqual([
      ['error', 'crl-lapsed', 'PE'],
      ['warn', 'crl-expiring', 'CL'],
    ]);
  });
});
