/**
 * Which events a border system hears of: an operator's benefits starting, stopping or changing, judged by the
 * rule the lookup answer uses (src/mra/recognition.ts: status, MRA in force, scope, benefits per covered
 * role) on the version held before a commit and the one it brought; and an MRA suspended or resumed. Pure.
 */
import {
  type Recognition,
  type RecognitionFacts,
  recognitionOf as recognizedUnder,
} from '../mra/recognition.ts';
import type { Partner } from '../mra/types.ts';

export const EVENT_TYPES = [
  'benefits.started',
  'benefits.stopped',
  'benefits.changed',
  'mra.suspended',
  'mra.resumed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The facts of one operator version that recognition depends on, and which version it is. */
export interface VersionFacts extends RecognitionFacts {
  version: number;
  statusSince: string;
}

export type { AppliedBenefit as Benefit, Recognition } from '../mra/recognition.ts';

/** Recognition by the one rule (src/mra/recognition.ts) under the partner's MRA; no partner, no MRA. */
export function recognitionOf(
  partner: Partner | undefined,
  v: VersionFacts | undefined,
  at: Date,
): Recognition {
  return recognizedUnder(partner?.mra, v, at);
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
