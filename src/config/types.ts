import type { KeyObject } from 'node:crypto';
import type { ParsedCertificate, SigningAlgorithm } from '../crypto/types.ts';
import type { Partner } from '../mra/types.ts';
import type { MonitoringSettings } from './monitoring.ts';
import type { RetentionSettings } from './retention.ts';

export type ApiScope = 'publish' | 'border' | 'admin' | 'monitoring';

/** One certificate and key the home administration signs with. */
export interface Signer {
  alg: SigningAlgorithm;
  key: KeyObject;
  chain: readonly ParsedCertificate[];
  /** Standard base64 DER of each chain certificate, leaf first: the `x5c` header. */
  x5c: readonly string[];
  /** base64url SHA-256 of the leaf DER: the `kid` header. */
  kid: string;
}

export interface ApiClient {
  id: string;
  tokenSha256: string;
  scopes: ReadonlySet<ApiScope>;
}

export interface ServerSettings {
  host: string;
  port: number;
  publicUrl: string | undefined;
  tls: { certificatePem: string; keyPem: string } | undefined;
  mtls: boolean;
  trustProxy: boolean;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  rateLimitPerMinute: number;
  /** Open connections one client address (an IPv6 /64) may hold; a new one over it is closed at once. */
  maxConnectionsPerAddress: number;
  /** Open connections of the listener in all. */
  maxConnections: number;
  /** Processes sharing both listeners' ports (src/cluster); 1 runs the gateway in the `serve` process itself. */
  processes: number;
}

/** The internal listener for the home administration's own systems. */
export interface ApiSettings {
  host: string;
  port: number;
  /** Bound on receiving a whole request; longer than the partner listener's, for register imports. */
  requestTimeoutMs: number;
  tls: { certificatePem: string; keyPem: string } | undefined;
  /** Requests an address may make a minute here: derived from server.rateLimitPerMinute (config/processes.ts). */
  rateLimitPerMinute: number;
  maxConnectionsPerAddress: number;
  maxConnections: number;
}

export interface RedisSettings {
  url: string;
  /** Key prefix of every queue of this gateway; tests use their own. */
  prefix: string;
  /** Bound on every Redis command a request could wait on. */
  commandTimeoutMs: number;
}

export interface OutboundSettings {
  /** Records per batch sent to a partner. */
  batchSize: number;
  /** Attempts per batch before its records are dead letters. */
  attempts: number;
  /** First retry delay; doubled each attempt, with jitter, up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
  /** Bound on one request to a partner. */
  requestTimeoutMs: number;
  /**
   * Batches sent to one partner a minute at most (a burst of 3 s worth), under the partner's limit per caller;
   * 0: no pace. A cluster's process sends its share.
   */
  requestsPerMinute: number;
  /** How often the relay looks for committed outbox rows it was not told about. */
  relayIntervalMs: number;
  /** How often each partner's feed is pulled; 0: never. */
  pullIntervalMs: number;
  /** How often snapshots are compared with each partner; 0: never. */
  reconcileIntervalMs: number;
}

export type StorageSettings =
  | { kind: 'postgres'; databaseUrl: string }
  | { kind: 'embedded'; dataDir: string };

export interface GatewayConfig {
  home: { adminId: string; name: string | undefined; signers: readonly Signer[] };
  server: ServerSettings;
  api: ApiSettings;
  storage: StorageSettings;
  redis: RedisSettings;
  outbound: OutboundSettings;
  partners: readonly Partner[];
  apiClients: readonly ApiClient[];
  notifications: NotificationSettings;
  monitoring: MonitoringSettings;
  retention: RetentionSettings;
  logLevel: string;
  /** Readable log lines (pino-pretty) instead of JSON: LOG_FORMAT=pretty, or log.pretty. */
  logPretty?: boolean;
  /** The metrics listener of its own, when metrics.port is set; /metrics on the API listener either way. */
  metrics?: { port: number; host: string };
}

/** Where webhook receivers may be (src/notifications/receiver-policy.ts). */
export interface ReceiverRules {
  /** Plain http, and then only to hosts allowed below. */
  allowHttp: boolean;
  /** Host names and IP literals (IPv6 without brackets) allowed whatever they resolve to. */
  allowHosts: readonly string[];
  /** Networks a receiver's addresses may be in although they are private, loopback or otherwise special. */
  allowNetworks: readonly { network: string; prefix: number; family: 'ipv4' | 'ipv6' }[];
}

export interface NotificationSettings extends ReceiverRules {
  /** Keys sealing webhook secrets at rest; the first seals, all open. None: new subscriptions are refused. */
  secretKeys: readonly { id: string; key: KeyObject }[];
  /** How long a rotated-out secret still signs, next to the new one. */
  secretOverlapMs: number;
}
