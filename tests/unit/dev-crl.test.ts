import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { devConfig, writeConfig } from '../../src/cli/setup.ts';
import { loadConfig } from '../../src/config/load.ts';
import { parsePemCertificates } from '../../src/crypto/certificate.ts';
import { validateChain } from '../../src/crypto/chain.ts';
import { createDevAdministration } from '../../src/crypto/dev-ca.ts';
import { writeDevCrl } from '../../src/crypto/dev-crl.ts';

const dir = mkdtempSync(join(tmpdir(), 'mra-dev-crl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const pe = createDevAdministration('PE', join(dir, 'PE'));
const cl = createDevAdministration('CL', join(dir, 'CL'));
const chainOf = (path: string) => parsePemCertificates(readFileSync(path, 'utf8')).map((c) => c.der);

/** CL's configuration with PE as partner, PE's CRLs configured. */
function clTrustingPe(crls: string[]) {
  const raw = devConfig(
    { adminId: 'CL', name: 'CL', certDir: join(dir, 'CL'), host: '127.0.0.1', port: 0 },
    [{ adminId: 'PE', name: 'PE', certDir: join(dir, 'PE'), host: '127.0.0.1', port: 0 }],
    { mtls: false, dataDir: join(dir, 'data') },
  );
  raw.partners![0]!.revocation = { crls };
  const path = join(dir, `CL-${crls.length}-${Math.random()}.yaml`);
  writeConfig(path, raw);
  return loadConfig(path, { env: {} }).partners[0]!.trust;
}

describe('the crl command', () => {
  it('writes a list, signed by the issuing CA, that partners load and that revokes the signing leaf', () => {
    const out = join(dir, 'PE-issuing.crl');
    const run = spawnSync(
      process.execPath,
      [
        'src/cli/main.ts',
        'crl',
        '--ca',
        pe.issuingCert,
        '--ca-key',
        pe.issuingKey,
        '--revoke',
        pe.signingCert,
        '--out',
        out,
      ],
      { encoding: 'utf8' },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/1 revoked, next update/);
    const trust = clTrustingPe([out]);
    const signing = validateChain(chainOf(pe.signingCert), trust, new Date());
    expect(signing).toMatchObject({ ok: false, code: 'CERT_UNTRUSTED' });
    expect(signing.ok ? '' : signing.detail).toMatch(/revoked/);
    // The TLS leaf, another serial of the same CA, is untouched.
    expect(validateChain(chainOf(pe.tlsCert), trust, new Date(), 'tls-client').ok).toBe(true);
  });

  it('an empty list revokes nothing, and it lapses after its next update', () => {
    const out = join(dir, 'PE-empty.crl');
    const now = new Date();
    writeDevCrl({
      caCertificate: pe.issuingCert,
      caKey: pe.issuingKey,
      revoke: [],
      nextUpdateDays: 2,
      out,
      now,
    });
    const trust = clTrustingPe([out]);
    expect(validateChain(chainOf(pe.signingCert), trust, now).ok).toBe(true);
    const later = validateChain(chainOf(pe.signingCert), trust, new Date(now.getTime() + 3 * 86_400_000));
    expect(later.ok ? '' : later.detail).toMatch(/lapsed/);
  });

  it('refuses a certificate of another CA, and a list signed by a CA the partner does not know', () => {
    const opts = { caCertificate: pe.issuingCert, caKey: pe.issuingKey, nextUpdateDays: 7 };
    expect(() => writeDevCrl({ ...opts, revoke: [cl.signingCert], out: join(dir, 'x.crl') })).toThrow(
      /was not issued by/,
    );
    expect(() => writeDevCrl({ ...opts, revoke: [], nextUpdateDays: 0, out: join(dir, 'y.crl') })).toThrow(
      /next-update-days/,
    );
    const foreign = join(dir, 'CL-issuing.crl');
    writeDevCrl({
      caCertificate: cl.issuingCert,
      caKey: cl.issuingKey,
      revoke: [],
      nextUpdateDays: 7,
      out: foreign,
    });
    expect(() => clTrustingPe([foreign])).toThrow(/revocation\/crls\/0/);
  });
});
