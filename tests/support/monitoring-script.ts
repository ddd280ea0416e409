/**
 * The scripted exchange of the monitoring report test, as data, and a small model of it that works out every
 * figure the two reports must show from the script alone: which records each side published and the other
 * accepted or rejected, who is recognised at the end, which lookups answer what, which feedback falls where.
 * The model is written from docs/protocol.md and docs/monitoring.md, not from the gateway's code.
 */
import type { Programme, Role } from '../../src/protocol/record.ts';

export type Size = 'micro' | 'small' | 'medium' | 'large' | undefined;
export type Decision = 'certify' | 'suspend' | 'revoke' | 'withdraw';
export type Status = 'certified' | 'suspended' | 'revoked' | 'withdrawn';

export interface ScriptOperator {
  key: string;
  programme: Programme;
  roles: Role[];
  size: Size;
  consent: boolean;
  decisions: Decision[];
}

const STATUS: Record<Decision, Status> = {
  certify: 'certified',
  suspend: 'suspended',
  revoke: 'revoked',
  withdraw: 'withdrawn',
};

export const statusOf = (op: ScriptOperator): Status => STATUS[op.decisions.at(-1) ?? 'certify'];

/** One record each decision publishes, in order: version 1, 2, ... with its status. */
export function recordsOf(op: ScriptOperator): { version: number; status: Status }[] {
  return op.consent ? op.decisions.map((d, i) => ({ version: i + 1, status: STATUS[d] })) : [];
}

export const sizeKey = (size: Size) => size ?? 'unknown';
export const splitKey = (size: Size) => (size === undefined ? 'unknown' : size === 'large' ? 'large' : 'sme');

export function add(counts: Record<string, number>, key: string, n = 1): void {
  counts[key] = (counts[key] ?? 0) + n;
}

/** A foreign operator as the receiving side holds it: its latest accepted version's facts. */
export interface HeldOperator {
  aeoId: string;
  programme: Programme;
  roles: readonly Role[];
  size: Size;
  status: Status;
}

/** The receiver's judgement by the recognition rule: status, then scope (the MRA is in force throughout). */
export function judge(
  held: HeldOperator | undefined,
  scope: { programmes: ReadonlySet<string>; roles: ReadonlySet<string> },
): string {
  if (held === undefined) return 'unknown';
  if (held.status !== 'certified') return held.status;
  if (!scope.programmes.has(held.programme) || !held.roles.some((r) => scope.roles.has(r))) {
    return 'out-of-scope';
  }
  return 'recognised';
}

/** The receiver's `operators` figure over the operators it holds, as the protocol defines it. */
export function expectedOperators(
  held: readonly HeldOperator[],
  scope: { programmes: ReadonlySet<string>; roles: ReadonlySet<string> },
) {
  const byProgramme: Record<string, number> = { 'AEO-S': 0, 'AEO-C': 0, 'AEO-F': 0 };
  const byRole: Record<string, number> = Object.fromEntries([...scope.roles].map((r) => [r, 0]));
  const bySize: Record<string, number> = { micro: 0, small: 0, medium: 0, large: 0, unknown: 0 };
  let recognised = 0;
  for (const h of held) {
    if (judge(h, scope) !== 'recognised') continue;
    recognised += 1;
    add(byProgramme, h.programme);
    for (const r of h.roles) if (scope.roles.has(r)) add(byRole, r);
    add(bySize, sizeKey(h.size));
  }
  return { recognised, byProgramme, byRole, bySize };
}

export interface FeedbackLine {
  aeoId: string;
  size: Size;
  benefit: string;
  applied: boolean;
  reason?: string;
}

const REASON = /^[a-z][a-z0-9-]{0,39}$/;

/** The `benefits` figure: one entry per benefit of the MRA, in its order. */
export function expectedBenefits(benefitIds: readonly string[], lines: readonly FeedbackLine[]) {
  return benefitIds.map((benefitId) => {
    const applied: Record<string, number> = { sme: 0, large: 0, unknown: 0 };
    const refused: Record<string, number> = { sme: 0, large: 0, unknown: 0 };
    const refusalReasons: Record<string, number> = {};
    for (const l of lines.filter((x) => x.benefit === benefitId)) {
      add(l.applied ? applied : refused, splitKey(l.size));
      if (!l.applied)
        add(refusalReasons, l.reason !== undefined && REASON.test(l.reason) ? l.reason : 'unspecified');
    }
    return { benefitId, applied, refused, refusalReasons };
  });
}

/** The national register figures of the home side's operators. */
export function expectedRegister(
  ops: readonly ScriptOperator[],
  publishedTo: (op: ScriptOperator) => boolean,
) {
  const byStatus: Record<string, number> = {};
  const byProgramme: Record<string, number> = {};
  const byRole: Record<string, number> = {};
  const bySize: Record<string, number> = { micro: 0, small: 0, medium: 0, large: 0, unknown: 0 };
  for (const op of ops) {
    add(byStatus, statusOf(op));
    add(byProgramme, op.programme);
    for (const r of op.roles) add(byRole, r);
    add(bySize, sizeKey(op.size));
  }
  return {
    operators: ops.length,
    consenting: ops.filter((o) => o.consent).length,
    byStatus,
    byProgramme,
    byRole,
    bySize,
    publishedToPartner: ops.filter(publishedTo).length,
  };
}

/** Counts of the statuses of versions accepted that differ from the version before (or are the first). */
export function expectedStatusChanges(
  versions: readonly { aeoId: string; version: number; status: Status }[],
) {
  const counts: Record<string, number> = {};
  const sorted = [...versions].sort((a, b) =>
    a.aeoId === b.aeoId ? a.version - b.version : a.aeoId < b.aeoId ? -1 : 1,
  );
  sorted.forEach((v, i) => {
    const before = sorted[i - 1];
    if (before === undefined || before.aeoId !== v.aeoId || before.status !== v.status) add(counts, v.status);
  });
  return counts;
}

/** The nearest-rank percentiles, written here from the definition. */
export function nearestRankPercentiles(values: readonly number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1] ?? -1;
  return { p50: at(50), p95: at(95), p99: at(99) };
}

/** A receiver's counts: `accepted` versions delivered, then one outcome or rejection code per crafted item. */
export function tallyOutcomes(accepted: number, outcomes: readonly string[]) {
  const counts = { accepted, duplicate: 0, superseded: 0, rejected: {} as Record<string, number> };
  for (const o of outcomes) {
    if (o === 'accepted' || o === 'duplicate' || o === 'superseded') counts[o] += 1;
    else add(counts.rejected, o);
  }
  return counts;
}
