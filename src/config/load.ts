/**
 * Reads one gateway's configuration file (YAML or JSON), validates it against schemas/config.schema.json and
 * resolves files, secrets and keys; each partner is resolved by partners.ts. The only module that reads the
 * environment.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { SigningAlgorithm } from '../crypto/types.ts';
import { GatewayError } from '../errors.ts';
import { validateAgainst } from '../validation.ts';
import { parseCertificates, readConfiguredText } from './files.ts';
import { invalid } from './invalid.ts';
import { resolveMonitoring } from './monitoring.ts';
import { resolveNotifications } from './notifications.ts';
import { resolvePartner } from './partners.ts';
import {
  apiRateLimitPerMinute,
  OUTBOUND_REQUESTS_PER_MINUTE,
  PARTNER_RATE_PER_MINUTE,
  resolveProcesses,
} from './processes.ts';
import type { RawConfig, RawSecret, RawSigning } from './raw.ts';
import { resolveRetention } from './retention.ts';
import type { GatewayConfig, Signer, StorageSettings } from './types.ts';

export type Environment = Readonly<Record<string, string | undefined>>;

export interface LoadOptions {
  /** Defaults to process.env; tests pass their own. */
  env?: Environment;
}

/** Path of the configuration file: the argument, else MRA_CONFIG, else ./gateway.yaml. */
export function configPathFrom(argument: string | undefined, env: Environment = process.env): string {
  return resolve(argument ?? env.MRA_CONFIG ?? 'gateway.yaml');
}

export function loadConfig(path: string, options: LoadOptions = {}): GatewayConfig {
  const env = options.env ?? process.env;
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw invalid(`cannot read configuration file ${file}: ${(cause as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { uniqueKeys: true, maxAliasCount: 50 });
  } catch (cause) {
    throw invalid(`${file} is not valid YAML or JSON: ${(cause as Error).message}`);
  }
  const checked = validateAgainst('config', raw);
  if (!checked.ok) throw invalid(`${file}: ${checked.errors.join('; ')}`);
  try {
    return resolveConfig(raw as RawConfig, dirname(file), env);
  } catch (error) {
    // Every later error names its field; the file it is in goes first, as for schema errors.
    if (error instanceof GatewayError && error.code === 'CONFIG_INVALID')
      throw invalid(`${file}: ${error.message.replace(/^configuration: /, '')}`);
    throw error;
  }
}

function resolveConfig(raw: RawConfig, baseDir: string, env: Environment): GatewayConfig {
  const at = (p: string): string => resolve(baseDir, p);
  const home = raw.home;
  const signers = home.signing.map((s, i) => resolveSigner(s, `/home/signing/${i}`, at, env));
  // The newest certificate signs; older ones stay published for receivers until they are removed.
  signers.sort((a, b) => b.chain[0]!.notBefore.getTime() - a.chain[0]!.notBefore.getTime());

  const server = raw.server ?? {};
  const tls = server.tls;
  const mtls = server.mtls ?? true;
  if (mtls && tls === undefined) {
    throw invalid('/server/mtls: mutual TLS needs /server/tls; set "mtls: false" explicitly for local tests');
  }

  const seen = new Set<string>([home.adminId]);
  const partners = raw.partners.map((p, i) => {
    if (seen.has(p.adminId))
      throw invalid(`/partners/${i}/adminId: ${p.adminId} is configured twice or is home`);
    seen.add(p.adminId);
    return resolvePartner(p, `/partners/${i}`, at, mtls);
  });
  const databaseUrl =
    env.DATABASE_URL ??
    (raw.storage?.databaseUrl
      ? readSecret(raw.storage.databaseUrl, '/storage/databaseUrl', at, env)
      : undefined);
  const storage: StorageSettings =
    databaseUrl !== undefined && databaseUrl.trim() !== ''
      ? { kind: 'postgres', databaseUrl: databaseUrl.trim() }
      : { kind: 'embedded', dataDir: at(raw.storage?.dataDir ?? `data/${home.adminId}`) };

  return {
    home: { adminId: home.adminId, name: home.name, signers },
    server: {
      host: server.host ?? '127.0.0.1',
      port: server.port ?? 8443,
      publicUrl: server.publicUrl,
      tls:
        tls === undefined
          ? undefined
          : {
              certificatePem: readText(at(tls.certificate), '/server/tls/certificate'),
              keyPem: readSecret(tls.key, '/server/tls/key', at, env),
            },
      mtls,
      trustProxy: server.trustProxy ?? false,
      headersTimeoutMs: server.headersTimeoutMs ?? 10_000,
      requestTimeoutMs: server.requestTimeoutMs ?? 60_000,
      rateLimitPerMinute: server.rateLimitPerMinute ?? PARTNER_RATE_PER_MINUTE,
      maxConnectionsPerAddress: server.maxConnectionsPerAddress ?? 64,
      maxConnections: server.maxConnections ?? 4_096,
      processes: resolveProcesses(server.processes, storage.kind, '/server/processes'),
    },
    api: {
      host: raw.api?.host ?? '127.0.0.1',
      port: raw.api?.port ?? 8080,
      requestTimeoutMs: raw.api?.requestTimeoutMs ?? 3_600_000,
      tls:
        raw.api?.tls === undefined
          ? undefined
          : {
              certificatePem: readText(at(raw.api.tls.certificate), '/api/tls/certificate'),
              keyPem: readSecret(raw.api.tls.key, '/api/tls/key', at, env),
            },
      rateLimitPerMinute: apiRateLimitPerMinute(server.rateLimitPerMinute ?? PARTNER_RATE_PER_MINUTE),
      maxConnectionsPerAddress: raw.api?.maxConnectionsPerAddress ?? 256,
      maxConnections: raw.api?.maxConnections ?? 4_096,
    },
    storage,
    redis: {
      url:
        env.REDIS_URL ??
        (raw.redis?.url ? readSecret(raw.redis.url, '/redis/url', at, env) : 'redis://127.0.0.1:6379'),
      prefix: raw.redis?.prefix ?? `mra-${home.adminId}`,
      commandTimeoutMs: raw.redis?.commandTimeoutMs ?? 2_000,
    },
    outbound: {
      batchSize: raw.outbound?.batchSize ?? 500,
      attempts: raw.outbound?.attempts ?? 12,
      backoffMs: raw.outbound?.backoffMs ?? 1_000,
      maxBackoffMs: raw.outbound?.maxBackoffMs ?? 300_000,
      requestTimeoutMs: raw.outbound?.requestTimeoutMs ?? 30_000,
      requestsPerMinute: raw.outbound?.requestsPerMinute ?? OUTBOUND_REQUESTS_PER_MINUTE,
      relayIntervalMs: raw.outbound?.relayIntervalMs ?? 1_000,
      pullIntervalMs: raw.outbound?.pullIntervalMs ?? 60_000,
      reconcileIntervalMs: raw.outbound?.reconcileIntervalMs ?? 3_600_000,
    },
    partners,
    apiClients: (raw.apiClients ?? []).map((c) => ({
      id: c.id,
      tokenSha256: c.tokenSha256,
      scopes: new Set(c.scopes),
    })),
    notifications: resolveNotifications(raw.notifications, (s, field) => readSecret(s, field, at, env)),
    monitoring: resolveMonitoring(raw.monitoring),
    retention: resolveRetention(raw.retention),
    logLevel: env.LOG_LEVEL ?? 'info',
    logPretty: env.LOG_FORMAT === undefined ? raw.log?.pretty === true : env.LOG_FORMAT === 'pretty',
    ...(raw.metrics?.port === undefined
      ? {}
      : { metrics: { port: raw.metrics.port, host: raw.metrics.host ?? '127.0.0.1' } }),
  };
}

function resolveSigner(raw: RawSigning, field: string, at: (p: string) => string, env: Environment): Signer {
  const chainPem = readText(at(raw.certificateChain), `${field}/certificateChain`);
  const chain = parseCertificates(chainPem, `${field}/certificateChain`);
  const leaf = chain[0]!;
  // Read first: a file that is missing is said so, not reported as a key that does not parse.
  const keyPem = readSecret(raw.key, `${field}/key`, at, env);
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (cause) {
    throw invalid(`${field}/key: not a private key in PEM: ${(cause as Error).message}`);
  }
  const publicDer = createPublicKey(key).export({ type: 'spki', format: 'der' });
  if (!publicDer.equals(leaf.publicKey.export({ type: 'spki', format: 'der' }))) {
    throw invalid(`${field}/key: the key does not belong to the first certificate of the chain`);
  }
  return {
    alg: algorithmFor(key, `${field}/key`),
    key,
    chain,
    x5c: chain.map((c) => Buffer.from(c.der).toString('base64')),
    kid: leaf.thumbprint,
  };
}

function algorithmFor(key: KeyObject, field: string): SigningAlgorithm {
  const type = key.asymmetricKeyType;
  if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  if (type === 'ed25519') return 'EdDSA';
  if (type === 'rsa' || type === 'rsa-pss') return 'PS256';
  throw invalid(`${field}: key type ${String(type)} is not in the signing profile (P-256, Ed25519, RSA)`);
}

function readSecret(secret: RawSecret, field: string, at: (p: string) => string, env: Environment): string {
  if ('env' in secret) {
    const value = env[secret.env];
    if (value === undefined || value === '')
      throw invalid(`${field}: environment variable ${secret.env} is not set`);
    return value;
  }
  return readText(at(secret.file), field);
}

function readText(path: string, field: string): string {
  return readConfiguredText(path, field);
}
