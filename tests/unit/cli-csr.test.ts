/**
 * Certification requests (src/crypto/csr.ts) read back with the repository's own DER reader: the request is
 * signed by the key it carries, names the subject and the host names, and asks for the purpose's usages.
 * Where openssl is installed it must accept the request too.
 */
import { execFileSync } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toPem } from '../../src/crypto/cert-builder.ts';
import { buildCsr, type CsrPurpose, newKeyFor } from '../../src/crypto/csr.ts';
import { decodeDer, sequence } from '../../src/crypto/der.ts';
import type { SigningAlgorithm } from '../../src/crypto/types.ts';

function opensslText(pem: string): string | undefined {
  try {
    return execFileSync('openssl', ['req', '-noout', '-verify', '-text'], {
      input: pem,
      stdio: 'pipe',
    }).toString();
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
}

const cases: [SigningAlgorithm, CsrPurpose][] = [
  ['ES256', 'tls'],
  ['PS256', 'tls'],
  ['EdDSA', 'signing'],
];

describe('certification requests', () => {
  it.each(cases)('%s %s: signed by its own key, with the subject and names asked for', (alg, purpose) => {
    const key = newKeyFor(alg);
    const der = buildCsr({
      key,
      subject: { commonName: 'gw.customs.example', organization: 'PE customs', country: 'PE' },
      purpose,
      dns: ['gw.customs.example'],
      ips: ['192.0.2.10', '2001:db8::1'],
    });
    const [info, , signature] = sequence(decodeDer(der), 'CertificationRequest');
    const signed = info!.raw;
    const sig = signature!.value.subarray(1); // BIT STRING: unused-bits octet first
    const pub = createPublicKey(key);
    const ok =
      alg === 'EdDSA'
        ? verify(null, signed, pub, sig)
        : alg === 'ES256'
          ? verify('sha256', signed, { key: pub, dsaEncoding: 'der' }, sig)
          : verify('sha256', signed, pub, sig);
    expect(ok).toBe(true);
    const spki = sequence(info, 'info')[2]!.raw;
    expect(Buffer.from(spki).equals(pub.export({ type: 'spki', format: 'der' }))).toBe(true);

    const text = opensslText(toPem(der, 'CERTIFICATE REQUEST'));
    if (text === undefined) {
      console.log('openssl not installed: the request was checked with the DER reader only');
      return;
    }
    expect(text).toMatch(/Subject: C\s?=\s?PE, O\s?=\s?PE customs, CN\s?=\s?gw\.customs\.example/);
    expect(text).toMatch(
      /DNS:gw\.customs\.example, IP Address:192\.0\.2\.10, IP Address:2001:DB8:0:0:0:0:0:1/,
    );
    expect(text).toMatch(/CA:FALSE/);
    if (purpose === 'tls')
      expect(text).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
    else expect(text).not.toMatch(/Extended Key Usage/);
  });
});
