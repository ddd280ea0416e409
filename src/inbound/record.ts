/** The AEO status record of docs/protocol.md (`aeo-status/1`), as the strict schema admits it. */
import type { Programme, Role } from '../config/types.ts';

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
