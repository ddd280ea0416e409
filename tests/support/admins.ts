/**
 * Development administrations for tests: real two-level PKIs made by the set-up code (root, issuing CA, leaves),
 * real configuration files loaded by the real loader (each partner's root as anchor and its issuing CA as
 * intermediate), and the CA keys kept so tests can issue odd certificates under a real anchor.
 */
import { createPrivateKey, type KeyObject, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type DevAdministration,
  type DevConfigOptions,
  devConfig,
  writeConfig,
} from '../../src/cli/setup.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { RawConfig } from '../../src/config/raw.ts';
import type { GatewayConfig } from '../../src/config/types.ts';
import { parsePemCertificates } from '../../src/crypto/certificate.ts';
import { createDevAdministration } from '../../src/crypto/dev-ca.ts';
import type { ParsedCertificate } from '../../src/crypto/types.ts';

export interface TestAdmin {
  adminId: string;
  dev: DevAdministration;
  config: GatewayConfig;
  configPath: string;
  /** The root CA (the anchor partners configure), to issue odd certificates directly under it. */
  caKey: KeyObject;
  caCert: ParsedCertificate;
  /** The issuing CA under the root that issued the signing and TLS leaves (partners' `intermediates`). */
  issuingKey: KeyObject;
  issuingCert: ParsedCertificate;
}

export interface AdminsOptions extends Partial<DevConfigOptions> {
  /** Adjusts each administration's configuration before it is written. */
  edit?: (adminId: string, raw: RawConfig) => void;
  env?: Record<string, string>;
}

export interface TestAdmins {
  dir: string;
  get(adminId: string): TestAdmin;
  cleanup(): void;
}

export function makeAdmins(ids: readonly string[], options: AdminsOptions = {}): TestAdmins {
  const dir = mkdtempSync(join(tmpdir(), 'mra-admins-'));
  const devs = ids.map(
    (adminId, i): DevAdministration => ({
      adminId,
      name: `Customs ${adminId}`,
      certDir: join(dir, adminId),
      host: '127.0.0.1',
      port: 20_000 + i,
    }),
  );
  for (const d of devs) createDevAdministration(d.adminId, d.certDir, {});
  const admins = new Map<string, TestAdmin>();
  // Queues of their own: test files run in parallel on one Redis, and a worker must never take another
  // file's jobs.
  const queuePrefix = `test-${randomBytes(6).toString('hex')}`;
  // Webhook receivers in tests are servers on loopback over plain http: allowed explicitly, as an operator
  // allows an internal receiver; and a key sealing webhook secrets, without which no subscription is made.
  const webhookKey = join(dir, 'webhook-secrets.key');
  writeFileSync(webhookKey, randomBytes(32).toString('base64'), { mode: 0o600 });
  for (const d of devs) {
    const raw = devConfig(
      d,
      devs.filter((o) => o !== d),
      { mtls: options.mtls ?? false, ...(options.mra ? { mra: options.mra } : {}) },
    );
    raw.server = { ...raw.server, port: 0 };
    raw.api = { host: '127.0.0.1', port: 0 };
    raw.redis = { ...raw.redis, prefix: `${queuePrefix}-${d.adminId}` };
    raw.notifications = {
      allowHttp: true,
      allowNetworks: ['127.0.0.0/8', '::1/128'],
      secretKeys: [{ id: 'test-1', key: { file: webhookKey } }],
    };
    // Issuing last month's summaries at start would push to partners that a test scripts or stops; a test
    // about summaries turns it on.
    raw.monitoring = { summaries: { auto: false } };
    options.edit?.(d.adminId, raw);
    const configPath = join(dir, `${d.adminId}.yaml`);
    writeConfig(configPath, raw);
    admins.set(d.adminId, {
      adminId: d.adminId,
      dev: d,
      config: loadConfig(configPath, { env: { LOG_LEVEL: 'silent', ...options.env } }),
      configPath,
      caKey: createPrivateKey(readFileSync(join(d.certDir, 'root.key'))),
      caCert: parsePemCertificates(readFileSync(join(d.certDir, 'root.pem'), 'utf8'))[0]!,
      issuingKey: createPrivateKey(readFileSync(join(d.certDir, 'issuing-ca.key'))),
      issuingCert: parsePemCertificates(readFileSync(join(d.certDir, 'issuing-ca.pem'), 'utf8'))[0]!,
    });
  }
  return {
    dir,
    get(adminId) {
      const a = admins.get(adminId);
      if (a === undefined) throw new Error(`no test administration ${adminId}`);
      return a;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
