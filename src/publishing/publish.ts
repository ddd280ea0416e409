/**
 * Outbound flow, first half: decisions of the national AEO system → the register entries → signed records →
 * the records and one outbox row per partner, committed in one transaction. Delivery (relay.ts, deliver.ts)
 * only ever reads what this committed, so nothing acknowledged here can be lost.
 *
 * Decisions are taken as a set (one from the API, a chunk of a bulk import): what the set touches is read in
 * one statement per table, the decisions are applied in memory in order (plan.ts), the records are signed
 * concurrently (WebCrypto signs on libuv's thread pool, so on every core it has threads for), and each table
 * is written in one statement.
 */
import { type AuditEntry, adminAction, appendAuditMany, publishedEntry } from '../audit/chain.ts';
import type { GatewayConfig } from '../config/types.ts';
import type { ErrorCode, GatewayError } from '../errors.ts';
import { isDataException } from '../store/data-error.ts';
import { LOCKS } from '../store/locks.ts';
import type { Sql, Store } from '../store/types.ts';
import type { DecisionInput } from './decision.ts';
import { createGroupCommit, type Settled } from './group-commit.ts';
import { addRecipients, type Planned, type PublishResult, planDecisions } from './plan.ts';
import { loadHomeOperators, saveHomeOperators } from './register.ts';
import {
  insertDecisions,
  insertRecords,
  loadEarlierPartners,
  loadPublished,
  loadStoredDecisions,
} from './rows.ts';
import { signRecordParts } from './sign-record.ts';

export type { PublishResult } from './plan.ts';

// Publishing takes this lock so that `home_record.seq` follows commit order and feed cursors never skip.
const PUBLISH_LOCK = LOCKS.publish;

/** What became of one decision of a chunk: its result, or why the rules refused it. */
export type DecisionOutcome =
  | { ok: true; result: PublishResult }
  | { ok: false; code: ErrorCode; detail: string };

export interface Publisher {
  /** `actor`, the API client that sent it, is chained with what the decision did (src/audit/chain.ts). */
  decide(input: DecisionInput, actor?: string): Promise<PublishResult>;
  /** Applies several decisions in one transaction; results in input order. One refused decision refuses all. */
  decideMany(inputs: readonly DecisionInput[], actor?: string): Promise<PublishResult[]>;
  /**
   * Applies several decisions in one transaction (bulk import), each on its own: a decision the rules refuse
   * (unknown operator, incomplete certify) is reported in its place and the others still commit. Failures of
   * the store still roll the whole chunk back and throw.
   */
  decideEach(inputs: readonly DecisionInput[]): Promise<DecisionOutcome[]>;
}

export interface PublisherDeps {
  config: GatewayConfig;
  store: Store;
  clock?: () => Date;
  /**
   * Called after a commit that wrote outbox rows, with the partners they are for, so the relay moves them without
   * waiting for its poll.
   */
  onPublished?: (records: number, partners: ReadonlySet<string>) => void;
}

type Outcome = { ok: true; result: PublishResult } | { ok: false; error: GatewayError };

export function createPublisher(deps: PublisherDeps): Publisher {
  const clock = deps.clock ?? (() => new Date());
  const home = deps.config.home.adminId;

  /**
   * Applies the set inside `tx` and answers each decision's outcome in input order, with the audit entry of the
   * records it published (none when it published none). With `refuseAll`, the first refusal throws before
   * anything is written.
   */
  async function applySet(
    tx: Sql,
    inputs: readonly DecisionInput[],
    now: Date,
    refuseAll: boolean,
  ): Promise<{ out: Outcome[]; published: AuditEntry[] }> {
    // Read together, as neither waits on the other's rows (the store sends them in one round trip): the
    // decisions already applied, and the register entries of every operator of the set.
    const [stored, operators] = await Promise.all([
      loadStoredDecisions(tx, [...new Set(inputs.map((i) => i.decisionId))]),
      loadHomeOperators(tx, [...new Set(inputs.map((i) => i.aeoId))]),
    ]);
    const plan = planDecisions(inputs, { home, now, stored, operators });
    const refused = plan.planned.find((p) => p.kind === 'refused');
    if (refuseAll && refused !== undefined) throw refused.error;

    // Only operators that had records before this set can have partners that held them (a register import of
    // new operators reads none).
    const hadRecords = new Set(
      plan.records
        .map((r) => r.record.operator.aeoId)
        .filter((aeoId) => (operators.get(aeoId)?.version ?? 0) > 0),
    );
    addRecipients(plan.records, deps.config.partners, await loadEarlierPartners(tx, [...hadRecords]), now);
    const signer = deps.config.home.signers[0]!;
    const jws = await Promise.all(plan.records.map((r) => signRecordParts(r.record, signer)));
    const rows = plan.records.map(({ record, published }, i) => ({
      recordId: record.recordId,
      aeoId: record.operator.aeoId,
      version: record.version,
      status: record.status,
      programme: record.programme,
      roles: record.operator.roles,
      jws: jws[i]!,
      partners: published.partners,
    }));
    // The three writes go out together too.
    const [kept] = await Promise.all([
      insertRecords(tx, rows, now),
      saveHomeOperators(tx, plan.entries, now),
      insertDecisions(tx, plan.decisions, now),
    ]);
    const published = kept.length > 0 ? [publishedEntry(home, kept)] : [];
    return { out: await outcomes(tx, plan.planned), published };
  }

  /** Each decision's outcome; replays of earlier transactions read what they published back. */
  async function outcomes(tx: Sql, planned: readonly Planned[]): Promise<Outcome[]> {
    const recordIds = planned.flatMap((p) =>
      p.kind === 'stored' && p.stored.recordId !== null ? [p.stored.recordId] : [],
    );
    const published = await loadPublished(tx, [...new Set(recordIds)]);
    return planned.map((p): Outcome => {
      if (p.kind === 'refused') return { ok: false, error: p.error };
      if (p.kind === 'applied') return { ok: true, result: p.result };
      const { aeoId, recordId } = p.stored;
      const record = recordId === null ? null : published.get(recordId);
      if (record === undefined)
        throw new Error(`decision ${p.decisionId}: its record ${recordId} is not stored`);
      return { ok: true, result: { decisionId: p.decisionId, aeoId, record, replayed: true } };
    });
  }

  async function inOneTransaction(
    inputs: readonly DecisionInput[],
    refuseAll: boolean,
    audited: (result: PublishResult, input: DecisionInput) => AuditEntry | undefined,
  ): Promise<Outcome[]> {
    const now = clock();
    const results = await deps.store.transaction(async (tx) => {
      // The lock goes out with the set's first reads, which PostgreSQL runs only once it is held.
      const [, { out, published }] = await Promise.all([
        tx.query('SELECT pg_advisory_xact_lock($1)', [PUBLISH_LOCK]),
        applySet(tx, inputs, now, refuseAll),
      ]);
      // The records published, then what each caller did: one append to the chain for the set.
      await appendAuditMany(tx, [
        ...published,
        ...out.flatMap((o, i) => (o.ok ? (audited(o.result, inputs[i]!) ?? []) : [])),
      ]);
      return out;
    });
    const wrote = results.flatMap((o) => (o.ok && wroteOutbox(o.result) ? [o.result.record!] : []));
    if (wrote.length > 0) deps.onPublished?.(wrote.length, new Set(wrote.flatMap((r) => r.partners)));
    return results;
  }

  const decisionAction = (actor: string | undefined) => (r: PublishResult, input: DecisionInput) =>
    actor === undefined || r.replayed
      ? undefined
      : adminAction(actor, r.decisionId, {
          action: 'decision',
          decision: input.decision,
          decisionId: r.decisionId,
          aeoId: r.aeoId,
          recordId: r.record?.recordId ?? null,
          version: r.record?.version ?? null,
          status: r.record?.status ?? null,
        });

  const wroteOutbox = (r: PublishResult) => r.record !== null && r.record.partners.length > 0 && !r.replayed;

  async function decideMany(inputs: readonly DecisionInput[], actor?: string): Promise<PublishResult[]> {
    const out = await inOneTransaction(inputs, true, decisionAction(actor));
    return out.map((o) => {
      if (!o.ok) throw o.error;
      return o.result;
    });
  }

  async function decideEach(inputs: readonly DecisionInput[]): Promise<DecisionOutcome[]> {
    const out = await inOneTransaction(inputs, false, () => undefined);
    return out.map((o) => (o.ok ? o : { ok: false, code: o.error.code, detail: o.error.message }));
  }

  /**
   * Single decisions from the API, committed in groups: while one transaction runs, the decisions that arrive
   * wait in memory, not on a pooled connection behind the publishing lock, and go together in the next one.
   * Each is judged on its own (a refusal answers its caller only) and chained with its own caller. A group
   * that fails in the store is tried again one decision at a time, so one decision cannot fail the others.
   */
  const group = createGroupCommit<Waiting, Outcome>(async (waiting) => {
    const actors = new Map(waiting.map((w) => [w.input, w.actor]));
    const audited = (r: PublishResult, input: DecisionInput) => decisionAction(actors.get(input))(r, input);
    const inputs = waiting.map((w) => w.input);
    const settled = (outcomes: Outcome[]): Settled<Outcome>[] =>
      outcomes.map((value) => ({ ok: true, value }));
    if (inputs.length === 1) return settled(await inOneTransaction(inputs, false, audited));
    try {
      return settled(await inOneTransaction(inputs, false, audited));
    } catch (error) {
      // Only a value one decision holds can fail a group (the rules' refusals are answered per decision);
      // the store away or busy fails every decision alike, and says when to try again.
      if (!isDataException(error)) throw error;
      const alone: Settled<Outcome>[] = [];
      for (const input of inputs) {
        alone.push(
          await inOneTransaction([input], false, audited).then(
            ([value]): Settled<Outcome> => ({ ok: true, value: value! }),
            (error: unknown): Settled<Outcome> => ({ ok: false, error }),
          ),
        );
      }
      return alone;
    }
  }, MAX_GROUP);

  return {
    decideMany,
    decideEach,
    async decide(input, actor) {
      const outcome = await group({ input, actor });
      if (!outcome.ok) throw outcome.error;
      return outcome.result;
    },
  };
}

/** Decisions committed together at most: a group holds the publishing lock for well under a second. */
const MAX_GROUP = 200;

interface Waiting {
  input: DecisionInput;
  actor: string | undefined;
}
