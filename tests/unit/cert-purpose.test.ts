/**
 * docs/threats.md 72: what the end-entity certificate is for. A CA certificate or a TLS certificate does not sign
 * records, receipts or request tokens; a TLS client certificate must be meant for clientAuth. Critical
 * extensions the gateway does not enforce (name and policy constraints) make the chain untrusted.
 */
import { describe, expect, it } from 'vitest';
import type { ExtraExtension } from '../../src/crypto/cert-builder.ts';
import { validateChain } from '../../src/crypto/chain.ts';
import type { ChainPurpose } from '../../src/crypto/types.ts';
import { expectFailure } from '../support/chain-assert.ts';
import { type CertSpec, makePki, NOW, type PkiSpec, trustStoreOf } from '../support/pki.ts';

function run(spec: PkiSpec, purpose?: ChainPurpose) {
  const pki = makePki({ intermediate: {}, ...spec });
  return validateChain(pki.chainDer, trustStoreOf(pki.anchors), NOW, purpose);
}
const leaf = (l: CertSpec, purpose?: ChainPurpose) => run({ leaf: l }, purpose);

const ext = (oid: string, critical: boolean, ...bytes: number[]): ExtraExtension => ({
  oid,
  critical,
  valueDer: Uint8Array.from(bytes),
});
/** permittedSubtrees: dNSName ".pe". */
const nameConstraints = (critical: boolean) =>
  ext('2.5.29.30', critical, 0x30, 0x09, 0xa0, 0x07, 0x30, 0x05, 0x82, 0x03, 0x2e, 0x70, 0x65);
/** requireExplicitPolicy 0. */
const policyConstraints = ext('2.5.29.36', true, 0x30, 0x03, 0x80, 0x01, 0x00);
const inhibitAnyPolicy = ext('2.5.29.54', true, 0x02, 0x01, 0x00);
/** anyPolicy. */
const certificatePolicies = ext(
  '2.5.29.32',
  true,
  0x30,
  0x08,
  0x30,
  0x06,
  0x06,
  0x04,
  0x55,
  0x1d,
  0x20,
  0x00,
);

describe('72: the signing leaf', () => {
  it('a CA certificate does not sign', () => {
    expectFailure(
      leaf({ basicConstraints: { ca: true }, keyUsage: ['digitalSignature', 'keyCertSign'] }),
      'CERT_UNTRUSTED',
      /^x5c\[0\] is a CA certificate \(basicConstraints cA TRUE\)/,
    );
  });

  it('a TLS certificate (extKeyUsage serverAuth, clientAuth or both, nothing else) does not sign', () => {
    for (const eku of [['serverAuth'], ['clientAuth'], ['serverAuth', 'clientAuth']]) {
      expectFailure(
        leaf({ extKeyUsage: eku }),
        'CERT_UNTRUSTED',
        /^x5c\[0\] is a TLS certificate \(extKeyUsage limited to serverAuth\/clientAuth\)/,
      );
    }
  });

  it('extKeyUsage with any other purpose, anyExtendedKeyUsage, or none at all signs', () => {
    for (const eku of [
      ['clientAuth', 'emailProtection'],
      ['codeSigning'],
      ['serverAuth', '2.5.29.37.0'],
      ['1.3.6.1.4.1.311.10.3.12'],
      undefined,
    ]) {
      const result = leaf(eku === undefined ? {} : { extKeyUsage: eku });
      expect(result.ok || result.detail).toBe(true);
    }
  });
});

describe('72: the TLS client leaf', () => {
  it('is meant for clientAuth when it says, and for digital signatures', () => {
    expect(leaf({ extKeyUsage: ['serverAuth', 'clientAuth'] }, 'tls-client').ok).toBe(true);
    expect(leaf({ extKeyUsage: ['2.5.29.37.0'] }, 'tls-client').ok).toBe(true);
    expect(leaf({ keyUsage: 'absent' }, 'tls-client').ok).toBe(true);
    expectFailure(
      leaf({ extKeyUsage: ['serverAuth'] }, 'tls-client'),
      'CERT_UNTRUSTED',
      /^x5c\[0\] extKeyUsage does not allow clientAuth$/,
    );
    expectFailure(
      leaf({ key: 'rsa2048', keyUsage: ['keyEncipherment'] }, 'tls-client'),
      'CERT_UNTRUSTED',
      /^x5c\[0\] keyUsage does not allow digitalSignature$/,
    );
    expectFailure(
      leaf({ basicConstraints: { ca: true }, extKeyUsage: ['clientAuth'] }, 'tls-client'),
      'CERT_UNTRUSTED',
      /is a CA certificate/,
    );
  });
});

describe('72: critical extensions that are not enforced', () => {
  it('critical nameConstraints, policyConstraints, inhibitAnyPolicy or certificatePolicies → untrusted', () => {
    const cases: [PkiSpec, RegExp][] = [
      [
        { intermediate: { extraExtensions: [nameConstraints(true)] } },
        /^x5c\[1\] has a critical nameConstraints/,
      ],
      [
        { intermediate: { extraExtensions: [policyConstraints] } },
        /^x5c\[1\] has a critical policyConstraints/,
      ],
      [
        { intermediate: { extraExtensions: [inhibitAnyPolicy] } },
        /^x5c\[1\] has a critical inhibitAnyPolicy/,
      ],
      [{ leaf: { extraExtensions: [certificatePolicies] } }, /^x5c\[0\] has a critical certificatePolicies/],
      [
        { root: { extraExtensions: [nameConstraints(true)] } },
        /^trust anchor 0 of PE has a critical nameConstraints/,
      ],
    ];
    for (const [spec, detail] of cases) {
      expectFailure(run(spec), 'CERT_UNTRUSTED', detail);
      expectFailure(run(spec, 'tls-client'), 'CERT_UNTRUSTED', detail);
    }
  });

  it('the same extensions, not critical, are informative only', () => {
    const result = run({ intermediate: { extraExtensions: [nameConstraints(false)] } });
    expect(result.ok || result.detail).toBe(true);
  });
});
