/** The nouns of a Mutual Recognition Arrangement as configured: the partner, what its MRA covers, benefits. */
import type { ParsedCertificate, TrustStore } from '../crypto/types.ts';
import type { Programme, Role } from '../protocol/record.ts';

export interface Benefit {
  id: string;
  description: string;
  /** Roles the benefit applies to; all roles in scope when absent. */
  roles: readonly Role[] | undefined;
}

export interface Mra {
  id: string;
  /** Inclusive, UTC midnight. */
  inForceFrom: Date;
  /** Exclusive, UTC midnight of the day after the configured last day; undefined: open-ended. */
  inForceUntil: Date | undefined;
  status: 'in-force' | 'suspended' | 'terminated';
  programmes: ReadonlySet<Programme>;
  roles: ReadonlySet<Role>;
  benefits: readonly Benefit[];
}

export interface Partner {
  adminId: string;
  name: string | undefined;
  /** Base URL of the partner's gateway, ending in /mra/v1. */
  endpoint: string;
  trust: TrustStore;
  /**
   * The partner's issuing CAs, each checked at load to chain to one of its anchors. The runtime may hand over
   * only the leaf of a TLS client's chain, so the gateway completes the path from these itself.
   */
  intermediates: readonly ParsedCertificate[];
  mra: Mra;
}
