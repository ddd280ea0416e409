/** The configuration file as schemas/config.schema.json admits it, before files and secrets are read. */
import type { Programme, Role } from '../protocol/record.ts';
import type { RawMonitoring } from './monitoring.ts';
import type { RawRetention } from './retention.ts';
import type { RawRevocation } from './revocation.ts';
import type { ApiScope, OutboundSettings } from './types.ts';

export type RawSecret = { file: string } | { env: string };

export interface RawSigning {
  key: RawSecret;
  certificateChain: string;
}

export interface RawPartner {
  adminId: string;
  name?: string;
  endpoint: string;
  trustAnchors: string[];
  intermediates?: string[];
  /** Deprecated: see RawRevocation and schemas/config.schema.json. */
  revocationList?: string;
  revocation?: RawRevocation;
  mra: {
    id: string;
    inForceFrom: string;
    inForceUntil?: string;
    status: 'in-force' | 'suspended' | 'terminated';
    scope: { programmes: Programme[]; roles: Role[] };
    benefits?: { id: string; description: string; roles?: Role[] }[];
  };
}

export interface RawConfig {
  home: { adminId: string; name?: string; signing: RawSigning[] };
  server?: {
    host?: string;
    port?: number;
    publicUrl?: string;
    tls?: { certificate: string; key: RawSecret };
    mtls?: boolean;
    trustProxy?: boolean;
    headersTimeoutMs?: number;
    requestTimeoutMs?: number;
    rateLimitPerMinute?: number;
    maxConnectionsPerAddress?: number;
    maxConnections?: number;
    processes?: number | 'auto';
  };
  api?: {
    host?: string;
    port?: number;
    requestTimeoutMs?: number;
    tls?: { certificate: string; key: RawSecret };
    maxConnectionsPerAddress?: number;
    maxConnections?: number;
  };
  storage?: { databaseUrl?: RawSecret; dataDir?: string };
  redis?: { url?: RawSecret; prefix?: string; commandTimeoutMs?: number };
  outbound?: Partial<Record<keyof OutboundSettings, number>>;
  partners: RawPartner[];
  apiClients?: { id: string; tokenSha256: string; scopes: ApiScope[] }[];
  notifications?: {
    allowHttp?: boolean;
    allowHosts?: string[];
    allowNetworks?: string[];
    secretKeys?: { id: string; key: RawSecret }[];
    secretOverlapMs?: number;
  };
  monitoring?: RawMonitoring;
  retention?: RawRetention;
  metrics?: { port?: number; host?: string };
  log?: { pretty?: boolean };
}
