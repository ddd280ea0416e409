/**
 * Which events a border system hears of: an operator's benefits starting, stopping or changing, judged as the
 * lookup answer judges them (docs/lookup.md: status, MRA in force, scope, benefits per covered role) on the
 * version held before a commit and the one it brought; and an MRA suspended or resumed. Pure.
 */
import type { Partner, Programme, Role } from '../config/types.ts';
import type { AeoStatus } from '../inbound/record.ts';
import { mraInForce, programmeInScope, rolesInScope } from '../mra/scope.ts';

export const EVENT_TYPES = [
  'benefits.started',
  'benefits.stopped',
  'benefits.changed',
  'mra.suspended',
  'mra.resumed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The facts of one operator version that recognition depends on. */
export interface VersionFacts {
  version: number;
  status: AeoStatus;
  statusSince: string;
  programme: Programme;
  roles: readonly Role[];
}

export interface Benefit {
  id: string;
  description: string;
  roles: Role[];
}

export type Recognition = { recognised: true; benefits: Benefit[] } | { recognised: false; reason: string };

export function recognitionOf(
  partner: Partner | undefined,
  v: VersionFacts | undefined,
  at: Date,
): Recognition {
  if (v === undefined) return { recognised: false, reason: 'unknown' };
  if (v.status !== 'certified') return { recognised: false, reason: v.status };
  if (partner === undefined || !mraInForce(partner.mra, at))
    return { recognised: false, reason: 'mra-not-in-force' };
  const { mra } = partner;
  if (!programmeInScope(mra, v.programme) || !rolesInScope(mra, v.roles)) {
    return { recognised: false, reason: 'out-of-scope' };
  }
  const covered = v.roles.filter((r) => mra.roles.has(r));
  const benefits = mra.benefits.flatMap((b) => {
    const roles = b.roles === undefined ? covered : covered.filter((r) => b.roles?.includes(r));
    return roles.length === 0 ? [] : [{ id: b.id, description: b.description, roles }];
  });
  return { recognised: true, benefits };
}

/** The event an operator's move from `before` to `after` is worth, if any. */
export function benefitEventOf(before: Recognition, after: Recognition): EventType | undefined {
  if (!before.recognised && after.recognised) return 'benefits.started';
  if (before.recognised && !after.recognised) return 'benefits.stopped';
  if (
    before.recognised &&
    after.recognised &&
    JSON.stringify(before.benefits) !== JSON.stringify(after.benefits)
  ) {
    return 'benefits.changed';
  }
  return undefined;
}

/** An MRA status move worth an event: leaving `in-force` suspends the benefits, coming back resumes them. */
export function mraEventOf(before: string, after: string): EventType | undefined {
  if (before === after) return undefined;
  if (before === 'in-force') return 'mra.suspended';
  if (after === 'in-force') return 'mra.resumed';
  return undefined;
}
