/**
 * The recognition rule, the one place that decides "is this foreign operator a recognised AEO at T, and which
 * benefits apply" (docs/lookup.md): the lookup answer, the webhook events and monitoring all judge through it,
 * so they cannot disagree after the rule changes. What the MRA covers and when it is in force is scope.ts.
 * Pure functions over plain data.
 */
import type { AeoStatus, Programme, Role } from '../protocol/record.ts';
import { mraInForce, programmeInScope, rolesInScope } from './scope.ts';
import type { Mra } from './types.ts';

/** Why an operator is not recognised, in no particular order: the one list for answers, events and schemas. */
export const NOT_RECOGNISED_REASONS = [
  'unknown',
  'suspended',
  'revoked',
  'withdrawn',
  'mra-not-in-force',
  'out-of-scope',
  'ambiguous-identifier',
] as const;
export type NotRecognisedReason = (typeof NOT_RECOGNISED_REASONS)[number];

/** The facts of one operator version that recognition depends on. */
export interface RecognitionFacts {
  status: AeoStatus;
  programme: Programme;
  roles: readonly Role[];
}

/** A benefit as it applies to one operator: the roles of that operator it applies to. */
export interface AppliedBenefit {
  id: string;
  description: string;
  roles: Role[];
}

export type Recognition =
  | { recognised: true; benefits: AppliedBenefit[] }
  | { recognised: false; reason: NotRecognisedReason };

/**
 * The as-of rule: a version holds from the later of its statusSince (the issuing administration's decision
 * date, UTC midnight) and the gateway's receipt of it, so that an as-of answer is what the gateway would have
 * said at that moment and a back-dated record never rewrites the past. The version in effect at T is the
 * highest one whose effectiveFrom is not after T. Epoch milliseconds.
 */
export function effectiveFrom(statusSince: string, receivedAt: number): number {
  return Math.max(Date.parse(`${statusSince}T00:00:00Z`), receivedAt);
}

/**
 * Why the version in effect is not recognised, or undefined when it is; the first failing check wins:
 * no version, the operator's own status, the MRA in force, then its scope. `inForce` is whether `mra` is in
 * force at the instant judged (mraInForce), passed in so a caller judging many operators at one instant
 * computes it once. An undefined `mra`: no MRA with the issuer.
 */
export function notRecognisedReason(
  mra: Mra | undefined,
  inForce: boolean,
  v: RecognitionFacts | undefined,
): NotRecognisedReason | undefined {
  if (v === undefined) return 'unknown';
  if (v.status !== 'certified') return v.status;
  if (mra === undefined || !inForce) return 'mra-not-in-force';
  if (!programmeInScope(mra, v.programme) || !rolesInScope(mra, v.roles)) return 'out-of-scope';
  return undefined;
}

/**
 * The benefits of a recognised operator: each benefit of the MRA with the operator's roles that the MRA
 * covers, narrowed to the benefit's own roles when it lists them; a benefit applying to none is left out.
 */
export function benefitsFor(mra: Mra, roles: readonly Role[]): AppliedBenefit[] {
  const covered = roles.filter((r) => mra.roles.has(r));
  return mra.benefits.flatMap((b) => {
    const applies = b.roles === undefined ? covered : covered.filter((r) => b.roles?.includes(r));
    return applies.length === 0 ? [] : [{ id: b.id, description: b.description, roles: applies }];
  });
}

/** The judgement of a version (undefined: none in effect) under an MRA (undefined: none) at an instant. */
export function recognitionOf(mra: Mra | undefined, v: RecognitionFacts | undefined, at: Date): Recognition {
  const reason = notRecognisedReason(mra, mra !== undefined && mraInForce(mra, at), v);
  if (reason !== undefined || mra === undefined || v === undefined) {
    return { recognised: false, reason: reason ?? 'unknown' };
  }
  return { recognised: true, benefits: benefitsFor(mra, v.roles) };
}
