/**
 * Writes a working configuration for a development administration whose certificates were made by
 * `certs` (dev-ca.ts): the home keys, and one partner entry with an MRA for each other administration.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { RawConfig, RawPartner } from '../config/raw.ts';
import { ROLES } from '../protocol/record.ts';

export interface DevAdministration {
  adminId: string;
  name: string;
  /** Folder holding root.pem, issuing-ca.pem, signing.pem/.key and tls.pem/.key, as dev-ca.ts writes them. */
  certDir: string;
  host: string;
  port: number;
  /** Port of the internal API listener; 0 picks a free one. */
  apiPort?: number;
}

export interface DevConfigOptions {
  mtls: boolean;
  dataDir?: string;
  /** MRA scope and dates; a broad MRA in force since 2020 by default. */
  mra?: Partial<RawPartner['mra']>;
}

export const ALL_ROLES: RawPartner['mra']['scope']['roles'] = [...ROLES];

export function devConfig(
  self: DevAdministration,
  partners: readonly DevAdministration[],
  options: DevConfigOptions,
): RawConfig {
  const scheme = options.mtls ? 'https' : 'http';
  return {
    home: {
      adminId: self.adminId,
      name: self.name,
      signing: [
        {
          key: { file: join(self.certDir, 'signing.key') },
          certificateChain: join(self.certDir, 'signing.pem'),
        },
      ],
    },
    server: {
      host: self.host,
      port: self.port,
      mtls: options.mtls,
      ...(options.mtls
        ? {
            tls: { certificate: join(self.certDir, 'tls.pem'), key: { file: join(self.certDir, 'tls.key') } },
          }
        : {}),
    },
    api: { host: self.host, port: self.apiPort ?? 0 },
    ...(options.dataDir ? { storage: { dataDir: options.dataDir } } : {}),
    partners: partners.map((p) => ({
      adminId: p.adminId,
      name: p.name,
      endpoint: `${scheme}://${p.host}:${p.port}/mra/v1`,
      trustAnchors: [join(p.certDir, 'root.pem')],
      intermediates: [join(p.certDir, 'issuing-ca.pem')],
      mra: {
        id: [self.adminId, p.adminId].sort().join('-'),
        inForceFrom: '2020-01-01',
        status: 'in-force',
        scope: { programmes: ['AEO-S', 'AEO-C', 'AEO-F'], roles: ALL_ROLES },
        benefits: [
          { id: 'fewer-checks', description: 'Fewer physical and documentary controls' },
          { id: 'priority', description: 'Priority examination when selected for control' },
        ],
        ...options.mra,
      },
    })),
  };
}

export function writeConfig(path: string, config: RawConfig): void {
  writeFileSync(path, stringify(config), 'utf8');
}
