import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runDemo } from '../../src/cli/demo.ts';
import type { RawConfig } from '../../src/config/raw.ts';
import { parsePemCertificates } from '../../src/crypto/certificate.ts';

// The README's first command runs this demo: it must keep working end to end.
const dir = mkdtempSync(join(tmpdir(), 'mra-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('demo exchange', () => {
  it('exchanges decisions both ways with receipts, reconciles, and shows the protocol edges', async () => {
    const lines: string[] = [];
    const { ok } = await runDemo({ dir, keepRunning: false, print: (l) => lines.push(l) });
    const text = lines.join('\n');
    expect(ok, text).toBe(true);
    expect(text).toContain('PE → CL: pushed and applied');
    expect(text).toContain('CL → PE: pushed and applied');
    expect(text).toMatch(/PE keeps [1-9]\d* signed receipts from CL; 4 deliveries confirmed/);
    expect(text).toMatch(/CL keeps [1-9]\d* signed receipts from PE; 4 deliveries confirmed/);
    expect(text).toContain("CL reconciles with PE's snapshot: in sync (3 operators)");
    expect(text).toContain('duplicate, duplicate, duplicate');
    expect(text).toContain('rejected SIGNATURE_INVALID');
    expect(text).toContain('demo exchange: OK');

    // Two levels, as administrations run them: each partner's root is the anchor, its issuing CA an
    // intermediate, and the TLS and signing chains hold the leaf and the issuing CA.
    const pe = parseYaml(readFileSync(join(dir, 'PE.yaml'), 'utf8')) as RawConfig;
    expect(pe.server?.mtls).toBe(true);
    const cl = pe.partners.find((p) => p.adminId === 'CL')!;
    expect(cl.trustAnchors).toEqual([join(dir, 'certs', 'CL', 'root.pem')]);
    expect(cl.intermediates).toEqual([join(dir, 'certs', 'CL', 'issuing-ca.pem')]);
    const certs = (name: string) =>
      parsePemCertificates(readFileSync(join(dir, 'certs', 'CL', name), 'utf8'));
    const [root, issuing] = [certs('root.pem')[0]!, certs('issuing-ca.pem')[0]!];
    for (const chain of [certs('tls.pem'), certs('signing.pem')]) {
      expect(chain.map((c) => c.fingerprint)).toEqual([chain[0]!.fingerprint, issuing.fingerprint]);
      expect(chain[0]!.x509.verify(issuing.publicKey)).toBe(true);
    }
    expect(issuing.x509.verify(root.publicKey)).toBe(true);
  }, 180_000);
});
