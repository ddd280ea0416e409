/**
 * A set of decisions applied in memory, in order, to the register entries they touch: what each decision does
 * (applied, a replay, or refused by the rules), the records to sign, and what to write. Pure but for the new
 * record ids: the store is read before (plan inputs) and written after (publish.ts), one statement per table.
 *
 * The same rules as one decision at a time, because it is one decision at a time: several decisions of one
 * operator in a set chain on each other, and a decisionId seen earlier in the set replays what that decision did.
 */
import { randomUUID } from 'node:crypto';
import { GatewayError } from '../errors.ts';
import { mraCovers } from '../mra/scope.ts';
import type { Partner } from '../mra/types.ts';
import type { AeoStatusRecord } from '../protocol/record.ts';
import { validateAgainst } from '../validation.ts';
import { applyDecision, type DecisionInput, type HomeOperator, recordOf } from './decision.ts';

export interface PublishedRecord {
  recordId: string;
  version: number;
  status: string;
  partners: string[];
}

export interface PublishResult {
  decisionId: string;
  aeoId: string;
  /** The record signed for partners, when the decision changed what they are told. */
  record: PublishedRecord | null;
  /** True when the same decisionId had already been applied; nothing changed this time. */
  replayed: boolean;
}

/** A decision applied by an earlier transaction, as home_decision keeps it. */
export interface StoredDecision {
  aeoId: string;
  recordId: string | null;
}

/** What one decision of the set does. */
export type Planned =
  | { kind: 'applied'; result: PublishResult }
  /** Applied by an earlier transaction: its answer is read back from the store. */
  | { kind: 'stored'; decisionId: string; stored: StoredDecision }
  | { kind: 'refused'; error: GatewayError };

/** A record to sign and store; `partners` are filled in by `addRecipients`. */
export interface PlannedRecord {
  record: AeoStatusRecord;
  /** The answer of the decision that made it: its partners are set with the record's. */
  published: PublishedRecord;
}

export interface Plan {
  planned: Planned[];
  /** In decision order: an operator's records in version order. */
  records: PlannedRecord[];
  /** The last entry of each operator an applied decision touched. */
  entries: HomeOperator[];
  /** Rows of home_decision, in decision order. */
  decisions: { decisionId: string; aeoId: string; decision: string; recordId: string | null }[];
}

export interface PlanContext {
  home: string;
  now: Date;
  /** Decisions already stored, by decisionId. */
  stored: ReadonlyMap<string, StoredDecision>;
  /** Register entries of the set's operators as stored; absent ones are not in the register. */
  operators: ReadonlyMap<string, HomeOperator>;
}

export function planDecisions(inputs: readonly DecisionInput[], ctx: PlanContext): Plan {
  const today = ctx.now.toISOString().slice(0, 10);
  const issuedAt = ctx.now.toISOString();
  const current = new Map(ctx.operators);
  const applied = new Map<string, PublishResult>();
  const plan: Plan = { planned: [], records: [], entries: [], decisions: [] };
  for (const input of inputs) {
    // The decisionId decides: a retry answers what the first call did, whatever the retried body says.
    const stored = ctx.stored.get(input.decisionId);
    if (stored !== undefined) {
      plan.planned.push({ kind: 'stored', decisionId: input.decisionId, stored });
      continue;
    }
    const first = applied.get(input.decisionId);
    if (first !== undefined) {
      plan.planned.push({ kind: 'applied', result: { ...first, replayed: true } });
      continue;
    }
    const before = current.get(input.aeoId);
    let next: { entry: HomeOperator; record: AeoStatusRecord | undefined };
    try {
      next = applyOne(before, input, { issuer: ctx.home, issuedAt, today });
    } catch (error) {
      // A refusal of the rules leaves the set as if this decision had not been in it.
      if (error instanceof GatewayError && error.status < 500) {
        plan.planned.push({ kind: 'refused', error });
        continue;
      }
      throw error;
    }
    current.set(input.aeoId, next.entry);
    let published: PublishedRecord | null = null;
    if (next.record !== undefined) {
      const r = next.record;
      published = { recordId: r.recordId, version: r.version, status: r.status, partners: [] };
      plan.records.push({ record: r, published });
    }
    const result: PublishResult = {
      decisionId: input.decisionId,
      aeoId: input.aeoId,
      record: published,
      replayed: false,
    };
    applied.set(input.decisionId, result);
    plan.planned.push({ kind: 'applied', result });
    plan.decisions.push({
      decisionId: input.decisionId,
      aeoId: input.aeoId,
      decision: input.decision,
      recordId: published?.recordId ?? null,
    });
  }
  const touched = new Set(plan.decisions.map((d) => d.aeoId));
  plan.entries = [...touched].map((aeoId) => current.get(aeoId)!);
  return plan;
}

function applyOne(
  before: HomeOperator | undefined,
  input: DecisionInput,
  meta: { issuer: string; issuedAt: string; today: string },
): { entry: HomeOperator; record: AeoStatusRecord | undefined } {
  const applied = applyDecision(before, input, meta.today);
  if (!applied.publish) return { entry: applied.entry, record: undefined };
  const version = (before?.version ?? 0) + 1;
  const record = recordOf(applied.entry, applied.publishedStatus, {
    recordId: randomUUID(),
    version,
    ...meta,
  });
  const valid = validateAgainst('aeo-status-1', record);
  if (!valid.ok)
    throw new GatewayError('BODY_INVALID', `the record would not be valid: ${valid.errors.join('; ')}`);
  return { entry: { ...applied.entry, version }, record };
}

/**
 * Sets the partners of each record: those whose MRA in force covers it, and those that were sent an earlier
 * version of the operator (`earlier`: from the store, for operators that had records before this set), who
 * must hear of a suspension or withdrawal even if the operator has since left their scope. A `withdrawn`
 * record goes only to partners that held the operator: the others have no benefits to end, and an operator
 * that withdrew its consent must not reach a partner that never had its details. Sorted, so that a replay
 * (which reads the rows back) answers exactly what the first call answered.
 */
export function addRecipients(
  records: readonly PlannedRecord[],
  partners: readonly Partner[],
  earlier: ReadonlyMap<string, ReadonlySet<string>>,
  now: Date,
): void {
  const held = new Map<string, Set<string>>();
  for (const { record, published } of records) {
    const aeoId = record.operator.aeoId;
    let set = held.get(aeoId);
    if (set === undefined) {
      set = new Set(record.version > 1 ? earlier.get(aeoId) : undefined);
      held.set(aeoId, set);
    }
    const covers = (p: Partner) =>
      record.status !== 'withdrawn' && mraCovers(p.mra, record.programme, record.operator.roles, now);
    const to = partners.filter((p) => set.has(p.adminId) || covers(p)).map((p) => p.adminId);
    published.partners = to.sort();
    // A later record of the operator in the same set goes to these partners too.
    for (const p of to) set.add(p);
  }
}
