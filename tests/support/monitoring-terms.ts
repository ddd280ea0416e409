/**
 * The canonical terms of an MRA as docs/monitoring.md defines them (`mraTerms[]`), worked out here from the
 * configured MRA, and their SHA-256: what the report must show for each version of the terms.
 */
import { createHash } from 'node:crypto';
import type { Mra } from '../../src/mra/types.ts';
import { PROGRAMMES, ROLES } from '../../src/protocol/record.ts';

export interface ExpectedTerms {
  mraId: string;
  status: string;
  inForceFrom: string;
  inForceUntil: string | null;
  programmes: string[];
  roles: string[];
  benefits: { id: string; description: string; roles: string[] | null }[];
}

const date = (at: Date) => at.toISOString().slice(0, 10);

/** Members in the documented order; programmes and roles in the protocol's; the last day in force. */
export function expectedTerms(mra: Mra, programmes: Iterable<string> = mra.programmes): ExpectedTerms {
  const held = new Set(programmes);
  return {
    mraId: mra.id,
    status: mra.status,
    inForceFrom: date(mra.inForceFrom),
    inForceUntil:
      mra.inForceUntil === undefined ? null : date(new Date(mra.inForceUntil.getTime() - 86_400_000)),
    programmes: PROGRAMMES.filter((p) => held.has(p)),
    roles: ROLES.filter((r) => mra.roles.has(r)),
    benefits: mra.benefits.map((b) => ({
      id: b.id,
      description: b.description,
      roles: b.roles === undefined ? null : ROLES.filter((r) => b.roles?.includes(r)),
    })),
  };
}

/** Lowercase hex SHA-256 of the JSON text of the terms. */
export function termsSha256Of(terms: ExpectedTerms): string {
  return createHash('sha256').update(JSON.stringify(terms), 'utf8').digest('hex');
}
