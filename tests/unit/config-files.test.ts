/**
 * Every configuration field that names a file says so when the file cannot be read, with the configuration
 * file, the field's JSON pointer and the path, before anything tries to parse it ("not a private key in PEM:
 * …ENOENT" misled). Partner endpoints must be base URLs under /mra/v1 (https under mutual TLS), and a
 * configuration with several schema errors reports them all, bounded.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';
import type { RawConfig } from '../../src/config/raw.ts';
import { GatewayError } from '../../src/errors.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';

let admins: TestAdmins;
beforeAll(() => {
  admins = makeAdmins(['PE', 'CL']);
});
afterAll(() => admins.cleanup());

function load(edit: (raw: RawConfig) => void): { path: string; error: GatewayError } {
  const raw = parse(readFileSync(admins.get('PE').configPath, 'utf8')) as RawConfig;
  edit(raw);
  const path = join(admins.dir, `files-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, stringify(raw));
  try {
    loadConfig(path, { env: {} });
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe('CONFIG_INVALID');
    return { path, error: error as GatewayError };
  }
  throw new Error('expected a configuration error');
}

const missing = () => join(admins.dir, 'nowhere', `missing-${Math.random().toString(36).slice(2)}.pem`);

const cases: [string, string, (raw: RawConfig, file: string) => void][] = [
  ['/home/signing/0/key', 'signing key', (raw, f) => (raw.home.signing[0]!.key = { file: f })],
  [
    '/home/signing/0/certificateChain',
    'signing chain',
    (raw, f) => (raw.home.signing[0]!.certificateChain = f),
  ],
  [
    '/server/tls/certificate',
    'TLS certificate',
    (raw, f) => (raw.server = { ...raw.server, tls: { certificate: f, key: { file: f } } }),
  ],
  [
    '/server/tls/key',
    'TLS key',
    (raw, f) =>
      (raw.server = {
        ...raw.server,
        tls: { certificate: raw.home.signing[0]!.certificateChain, key: { file: f } },
      }),
  ],
  [
    '/api/tls/key',
    'API TLS key',
    (raw, f) =>
      (raw.api = {
        ...raw.api,
        tls: { certificate: raw.home.signing[0]!.certificateChain, key: { file: f } },
      }),
  ],
  ['/storage/databaseUrl', 'database URL secret', (raw, f) => (raw.storage = { databaseUrl: { file: f } })],
  ['/redis/url', 'Redis URL secret', (raw, f) => (raw.redis = { url: { file: f } })],
  ['/partners/0/trustAnchors/0', 'anchor', (raw, f) => (raw.partners[0]!.trustAnchors = [f])],
  ['/partners/0/intermediates/0', 'intermediate', (raw, f) => (raw.partners[0]!.intermediates = [f])],
  ['/partners/0/revocation/crls/0', 'CRL', (raw, f) => (raw.partners[0]!.revocation = { crls: [f] })],
  [
    '/partners/0/revocation/certificates/0',
    'revoked certificate',
    (raw, f) => (raw.partners[0]!.revocation = { certificates: [f] }),
  ],
  ['/partners/0/revocationList', 'fingerprint list', (raw, f) => (raw.partners[0]!.revocationList = f)],
  [
    '/notifications/secretKeys/0/key',
    'webhook sealing key',
    (raw, f) => (raw.notifications = { secretKeys: [{ id: 'k1', key: { file: f } }] }),
  ],
];

describe('an unreadable configured file', () => {
  it.each(cases)('%s (%s): names the file, the field, the path and "no such file"', (field, _what, edit) => {
    const file = missing();
    const { path, error } = load((raw) => edit(raw, file));
    expect(error.message).toBe(`configuration: ${path}: ${field}: cannot read ${file}: no such file`);
    expect(error.message).not.toMatch(/ENOENT|not a private key|not a PEM/);
  });

  it('says "is a directory" for a folder where a file belongs', () => {
    const folder = join(admins.dir, 'a-folder');
    mkdirSync(folder, { recursive: true });
    const { path, error } = load((raw) => (raw.home.signing[0]!.key = { file: folder }));
    expect(error.message).toBe(
      `configuration: ${path}: /home/signing/0/key: cannot read ${folder}: is a directory`,
    );
  });

  it('still says "not a private key" for a file that is there but holds none', () => {
    const junk = join(admins.dir, 'junk.key');
    writeFileSync(junk, 'not a key\n');
    const { error } = load((raw) => (raw.home.signing[0]!.key = { file: junk }));
    expect(error.message).toContain('/home/signing/0/key: not a private key in PEM');
  });
});

describe('partner endpoints', () => {
  it.each([
    ['http://127.0.0.1:9/', 'ending in /mra/v1'],
    ['http://127.0.0.1:9/mra', 'ending in /mra/v1'],
    ['http://127.0.0.1:9/mra/v1/records', 'ending in /mra/v1'],
    ['http://127.0.0.1:9/mra/v1?x=1', 'ending in /mra/v1'],
  ])('refuses %s, naming the field', (endpoint, says) => {
    const { error } = load((raw) => (raw.partners[0]!.endpoint = endpoint));
    expect(error.message).toContain(`/partners/0/endpoint: ${endpoint} must be`);
    expect(error.message).toContain(says);
  });

  it('accepts a base URL under /mra/v1 with or without a trailing slash (mTLS off: http allowed)', () => {
    for (const endpoint of ['http://127.0.0.1:9/mra/v1', 'http://127.0.0.1:9/gw/mra/v1/']) {
      const raw = parse(readFileSync(admins.get('PE').configPath, 'utf8')) as RawConfig;
      raw.partners[0]!.endpoint = endpoint;
      const path = join(admins.dir, `ok-${Math.random().toString(36).slice(2)}.yaml`);
      writeFileSync(path, stringify(raw));
      expect(loadConfig(path, { env: {} }).partners[0]!.endpoint).toBe(endpoint.replace(/\/$/, ''));
    }
  });

  it('requires https under mutual TLS', () => {
    const { error } = load((raw) => {
      const dir = admins.get('PE').dev.certDir;
      raw.server = {
        ...raw.server,
        mtls: true,
        tls: { certificate: join(dir, 'tls.pem'), key: { file: join(dir, 'tls.key') } },
      };
      raw.partners[0]!.endpoint = 'http://127.0.0.1:9/mra/v1';
    });
    expect(error.message).toContain('/partners/0/endpoint: http://127.0.0.1:9/mra/v1 must use https');
  });
});

describe('schema errors of a configuration', () => {
  it('reports every one with its pointer, bounded to ten and a count of the rest', () => {
    const { error } = load((raw) => {
      raw.partners[0]!.adminId = 'chile';
      raw.server = { ...raw.server, port: -1 };
      Object.assign(raw.home, { colour: 'blue' });
    });
    expect(error.message).toContain('/partners/0/adminId');
    expect(error.message).toContain('/server/port');
    expect(error.message).toContain('unknown member "colour"');

    const many = load((raw) => {
      raw.apiClients = Array.from({ length: 14 }, (_, i) => ({
        id: `c${i}`,
        tokenSha256: 'not-hex',
        scopes: ['publish'],
      }));
    });
    const listed = many.error.message.match(/\/apiClients\/\d+\/tokenSha256/g) ?? [];
    expect(listed).toHaveLength(10);
    expect(many.error.message).toMatch(/; and 4 more$/);
  });
});
