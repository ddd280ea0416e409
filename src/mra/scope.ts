/** What an MRA covers, shared by every flow: in force at a time, and in scope for a programme and roles. */
import type { Programme, Role } from '../protocol/record.ts';
import type { Mra } from './types.ts';

export function mraInForce(mra: Mra, at: Date): boolean {
  if (mra.status !== 'in-force') return false;
  if (at < mra.inForceFrom) return false;
  return mra.inForceUntil === undefined || at < mra.inForceUntil;
}

/**
 * A record is in scope when its programme is covered and at least one of its roles is: benefits then apply
 * for the covered roles only. The receiver and the sender use this same rule (docs/protocol.md).
 */
export function programmeInScope(mra: Mra, programme: Programme): boolean {
  return mra.programmes.has(programme);
}

export function rolesInScope(mra: Mra, roles: readonly Role[]): boolean {
  return roles.some((r) => mra.roles.has(r));
}

export function mraCovers(mra: Mra, programme: Programme, roles: readonly Role[], at: Date): boolean {
  return mraInForce(mra, at) && programmeInScope(mra, programme) && rolesInScope(mra, roles);
}
