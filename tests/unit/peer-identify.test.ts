/**
 * Which partner a mutual-TLS client is (docs/threats.md 71), on sockets that hand over what the runtime may: the
 * leaf alone (as the pinned Node does on the server side), or the chain. The path is completed only from the
 * issuing CAs each partner configured, and only a signature check makes one of them the leaf's issuer.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { buildCertificate } from '../../src/crypto/cert-builder.ts';
import { parseCertificate } from '../../src/crypto/certificate.ts';
import { createChainCache } from '../../src/crypto/chain-cache.ts';
import { candidatePaths, createPeerIdentifier } from '../../src/http/peer.ts';
import type { Partner } from '../../src/mra/types.ts';
import { makePki, type TestPki, trustStoreOf } from '../support/pki.ts';

/** A two-level PKI of its own for `adminId`: keys and names differ from every other administration's. */
function twoLevel(adminId: string, leafName = `${adminId} gateway TLS`): TestPki {
  return makePki({
    root: { keyRole: `${adminId}-root`, name: { commonName: `${adminId} root CA`, country: adminId } },
    intermediate: { keyRole: `${adminId}-issuing`, name: { commonName: `${adminId} issuing CA` } },
    leaf: { keyRole: `${adminId}-leaf`, name: { commonName: leafName, organization: `${adminId} customs` } },
  });
}

function partnerOf(adminId: string, pki: TestPki, intermediates = true): Partner {
  return {
    adminId,
    name: undefined,
    endpoint: `https://${adminId.toLowerCase()}.example/mra/v1`,
    trust: trustStoreOf(pki.anchors, { adminId }),
    intermediates: intermediates && pki.intermediateDer ? [parseCertificate(pki.intermediateDer)] : [],
    mra: {} as Partner['mra'],
  } as Partner;
}

interface FakeCert {
  raw: Buffer;
  issuerCertificate?: FakeCert;
}

/** A request on an authorised TLS socket whose runtime reports `chain` (leaf first, linked by issuer). */
function requestWith(chain: readonly Uint8Array[], authorized = true): IncomingMessage {
  let top: FakeCert | undefined;
  for (const der of [...chain].reverse()) {
    const cert: FakeCert = { raw: Buffer.from(der) };
    if (top !== undefined) cert.issuerCertificate = top;
    top = cert;
  }
  return {
    socket: { authorized, getPeerCertificate: () => top ?? {} },
  } as unknown as IncomingMessage;
}

const pe = twoLevel('PE');
const cl = twoLevel('CL');

describe('mutual-TLS peer through an issuing CA', () => {
  it('identifies a partner from its leaf alone, completed with its configured issuing CA', () => {
    const identify = createPeerIdentifier([partnerOf('CL', cl), partnerOf('PE', pe)], createChainCache(8));
    expect(identify(requestWith([pe.leafDer]))).toBe('PE');
    expect(identify(requestWith([cl.leafDer]))).toBe('CL');
  });

  it('takes the chain as the runtime gives it when it gives more than the leaf', () => {
    const identify = createPeerIdentifier(
      [partnerOf('CL', cl, false), partnerOf('PE', pe, false)],
      createChainCache(8),
    );
    expect(identify(requestWith(pe.chainDer))).toBe('PE');
    expect(identify(requestWith([pe.leafDer, pe.intermediateDer!, pe.rootDer]))).toBe('PE');
    // The leaf alone, with no issuing CA configured, reaches no anchor.
    expect(identify(requestWith([pe.leafDer]))).toBeUndefined();
  });

  it("identifies a leaf issued by PE's issuing CA as PE, whatever partner its names claim", () => {
    const claimsCl = makePki({
      root: { keyRole: 'PE-root', name: { commonName: 'PE root CA', country: 'PE' } },
      intermediate: { keyRole: 'PE-issuing', name: { commonName: 'PE issuing CA' } },
      leaf: { keyRole: 'claims-CL', name: { commonName: 'CL gateway TLS', organization: 'CL customs' } },
    });
    const identify = createPeerIdentifier([partnerOf('CL', cl), partnerOf('PE', pe)], createChainCache(8));
    expect(identify(requestWith([claimsCl.leafDer]))).toBe('PE');
    expect(identify(requestWith(claimsCl.chainDer))).toBe('PE');
  });

  it("never completes a path with another partner's issuing CA on a matching name alone", () => {
    // CL runs its own CA and names a leaf's issuer exactly as PE's issuing CA, without key identifiers, so
    // that names are all a candidate check has to go on; CL's issuing key signs it.
    const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const spoofed = buildCertificate({
      subjectPublicKey: key.publicKey,
      issuerPrivateKey: cl.intermediateKey!,
      subject: { commonName: 'PE gateway TLS', organization: 'PE customs' },
      issuer: { commonName: 'PE issuing CA' },
      notBefore: new Date(Date.now() - 3_600_000),
      notAfter: new Date(Date.now() + 86_400_000),
      basicConstraints: { ca: false },
      keyUsage: ['digitalSignature'],
      keyIdentifiers: false,
    });
    const partners = [partnerOf('PE', pe), partnerOf('CL', cl)];
    // The name did make PE's issuing CA a candidate: the signature check is what refuses it.
    expect(candidatePaths([spoofed], partners[0]!)).toHaveLength(2);
    const identify = createPeerIdentifier(partners, createChainCache(8));
    expect(identify(requestWith([spoofed]))).toBeUndefined();
  });

  it('identifies no one for a leaf of an issuing CA no partner configured, or an unverified socket', () => {
    const stranger = twoLevel('XX');
    const identify = createPeerIdentifier([partnerOf('PE', pe), partnerOf('CL', cl)], createChainCache(8));
    expect(identify(requestWith([stranger.leafDer]))).toBeUndefined();
    expect(identify(requestWith(stranger.chainDer))).toBeUndefined();
    expect(identify(requestWith([pe.leafDer], false))).toBeUndefined();
    expect(identify(requestWith([]))).toBeUndefined();
  });
});
