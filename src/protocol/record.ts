/** The AEO status record of docs/protocol.md (`aeo-status/1`), as the strict schema admits it. */

/** AEO programmes and supply-chain roles of docs/protocol.md; schemas/ list the same values. */
export const PROGRAMMES = ['AEO-S', 'AEO-C', 'AEO-F'] as const;
export type Programme = (typeof PROGRAMMES)[number];
export const ROLES = [
  'manufacturer',
  'exporter',
  'importer',
  'customs-broker',
  'carrier',
  'freight-forwarder',
  'consolidator',
  'warehouse-operator',
  'port-operator',
  'terminal-operator',
] as const;
export type Role = (typeof ROLES)[number];
export type AeoStatus = 'certified' | 'suspended' | 'revoked' | 'withdrawn';

export interface AeoStatusRecord {
  schema: 'aeo-status/1';
  recordId: string;
  issuer: string;
  issuedAt: string;
  version: number;
  operator: {
    aeoId: string;
    identifiers: { scheme: string; value: string }[];
    name: string;
    address: { street: string; city: string; postcode?: string; country: string };
    roles: Role[];
    enterpriseSize?: 'micro' | 'small' | 'medium' | 'large';
  };
  programme: Programme;
  status: AeoStatus;
  statusSince: string;
  certifiedOn: string;
  lastValidatedOn?: string;
  suspendedUntil?: string;
}
