import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';
import type { RawConfig } from '../../src/config/raw.ts';
import { toPem } from '../../src/crypto/cert-builder.ts';
import { parseCertificate } from '../../src/crypto/certificate.ts';
import { GatewayError } from '../../src/errors.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { makePki } from '../support/pki.ts';

let admins: TestAdmins;
beforeAll(() => {
  admins = makeAdmins(['PE', 'CL']);
});
afterAll(() => admins.cleanup());

/** Writes an edited copy of PE's configuration and loads it. */
function loadEdited(edit: (raw: RawConfig) => void, env: Record<string, string> = {}) {
  const raw = parse(readFileSync(admins.get('PE').configPath, 'utf8')) as RawConfig;
  edit(raw);
  const path = join(admins.dir, `edited-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, stringify(raw));
  return loadConfig(path, { env });
}

function configError(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe('CONFIG_INVALID');
    return error as GatewayError;
  }
  throw new Error('expected a configuration error');
}

describe('configuration', () => {
  it('loads a valid file with keys, anchors and the MRA resolved', () => {
    const config = admins.get('PE').config;
    expect(config.home.adminId).toBe('PE');
    expect(config.home.signers[0]!.alg).toBe('ES256');
    expect(config.home.signers[0]!.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(config.partners[0]!.adminId).toBe('CL');
    expect(config.partners[0]!.trust.anchors).toHaveLength(1);
    expect(config.partners[0]!.mra.programmes.has('AEO-F')).toBe(true);
    expect(config.storage.kind).toBe('embedded');
    expect(config.server.mtls).toBe(false);
  });

  it('names the field that fails the schema', () => {
    const e = configError(() => loadEdited((raw) => (raw.partners[0]!.adminId = 'chile')));
    expect(e.message).toContain('/partners/0/adminId');
  });

  it('refuses unknown members instead of ignoring them', () => {
    const e = configError(() => loadEdited((raw) => Object.assign(raw.home, { colour: 'blue' })));
    expect(e.message).toContain('unknown member "colour"');
  });

  it('names a missing file', () => {
    const e = configError(() => loadEdited((raw) => (raw.partners[0]!.trustAnchors = ['missing.pem'])));
    expect(e.message).toContain('/partners/0/trustAnchors/0');
    expect(e.message).toMatch(/cannot read \S+missing\.pem: no such file$/);
  });

  it('reads a secret from the environment, and names it when it is not set', () => {
    const keyPem = readFileSync(join(admins.get('PE').dev.certDir, 'signing.key'), 'utf8');
    const ok = loadEdited((raw) => (raw.home.signing[0]!.key = { env: 'PE_SIGNING_KEY' }), {
      PE_SIGNING_KEY: keyPem,
    });
    expect(ok.home.signers[0]!.alg).toBe('ES256');
    const e = configError(() => loadEdited((raw) => (raw.home.signing[0]!.key = { env: 'PE_SIGNING_KEY' })));
    expect(e.message).toContain('PE_SIGNING_KEY is not set');
  });

  it('refuses a signing key that does not belong to the certificate', () => {
    const other = join(admins.get('CL').dev.certDir, 'signing.key');
    const e = configError(() => loadEdited((raw) => (raw.home.signing[0]!.key = { file: other })));
    expect(e.message).toContain('/home/signing/0/key');
  });

  it('requires TLS for mutual TLS, and an explicit switch to turn it off', () => {
    const e = configError(() => loadEdited((raw) => delete raw.server?.mtls));
    expect(e.message).toContain('/server/mtls');
  });

  it('refuses a partner configured twice or equal to home', () => {
    const twice = configError(() => loadEdited((raw) => raw.partners.push(raw.partners[0]!)));
    expect(twice.message).toContain('/partners/1/adminId');
    const home = configError(() => loadEdited((raw) => (raw.partners[0]!.adminId = 'PE')));
    expect(home.message).toContain('/partners/0/adminId');
  });

  it('takes PostgreSQL from DATABASE_URL over the embedded store', () => {
    const config = loadEdited(() => {}, { DATABASE_URL: 'postgres://127.0.0.1/x' });
    expect(config.storage).toEqual({ kind: 'postgres', databaseUrl: 'postgres://127.0.0.1/x' });
  });

  it('reads a revocation list of fingerprints only for certificates it also revokes by identity', () => {
    const list = join(admins.dir, 'revoked.txt');
    const certFile = join(admins.dir, 'revoked.pem');
    const revoked = parseCertificate(makePki({ leaf: { keyRole: 'config-revoked' } }).leafDer);
    writeFileSync(certFile, toPem(revoked.der));
    writeFileSync(list, `# revoked\n${revoked.fingerprint}\n`);
    const config = loadEdited((raw) => {
      raw.partners[0]!.revocationList = list;
      raw.partners[0]!.revocation = { certificates: [certFile] };
    });
    const trust = config.partners[0]!.trust;
    expect(trust.revokedFingerprints.has(revoked.fingerprint)).toBe(true);
    expect(trust.revocation?.identities.has(revoked.identity)).toBe(true);
    writeFileSync(list, `${'ab'.repeat(32)}\n`);
    const bare = configError(() => loadEdited((raw) => (raw.partners[0]!.revocationList = list)));
    expect(bare.message).toMatch(
      /revocationList: line 1 names a certificate by fingerprint only.*revocation\/certificates/,
    );
    writeFileSync(list, 'not-a-fingerprint\n');
    const e = configError(() => loadEdited((raw) => (raw.partners[0]!.revocationList = list)));
    expect(e.message).toContain('line 1');
  });

  it('makes the MRA end after its last day and refuses an end before its start', () => {
    const config = loadEdited((raw) => (raw.partners[0]!.mra.inForceUntil = '2030-12-31'));
    expect(config.partners[0]!.mra.inForceUntil?.toISOString()).toBe('2031-01-01T00:00:00.000Z');
    const e = configError(() => loadEdited((raw) => (raw.partners[0]!.mra.inForceUntil = '2019-01-01')));
    expect(e.message).toContain('/mra/inForceUntil');
  });
});
