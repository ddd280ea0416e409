/**
 * Outbound flow, first half: a decision of the national AEO system → the register entry → a signed record →
 * the record and one outbox row per partner, committed in one transaction. Delivery (relay.ts, deliver.ts)
 * only ever reads what this committed, so nothing acknowledged here can be lost.
 */
import { randomUUID } from 'node:crypto';
import { type AuditEntry, adminAction, appendAuditMany, publishedEntry } from '../audit/chain.ts';
import type { GatewayConfig } from '../config/types.ts';
import { recordDigest } from '../crypto/digest.ts';
import { type ErrorCode, GatewayError } from '../errors.ts';
import { mraCovers } from '../mra/scope.ts';
import type { Partner } from '../mra/types.ts';
import type { AeoStatusRecord } from '../protocol/record.ts';
import type { Sql, Store } from '../store/types.ts';
import { validateAgainst } from '../validation.ts';
import { type Applied, applyDecision, type DecisionInput, type HomeOperator, recordOf } from './decision.ts';
import { loadHomeOperator, saveHomeOperator } from './register.ts';
import { signRecord } from './sign-record.ts';

// Publishing takes this lock so that `home_record.seq` follows commit order and feed cursors never skip.
const PUBLISH_LOCK = 7_411_203_992;

export interface PublishResult {
  decisionId: string;
  aeoId: string;
  /** The record signed for partners, when the decision changed what they are told. */
  record: { recordId: string; version: number; status: string; partners: string[] } | null;
  /** True when the same decisionId had already been applied; nothing changed this time. */
  replayed: boolean;
}

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
  /** Called after a commit that wrote outbox rows, so the relay moves them without waiting for its poll. */
  onPublished?: (records: number) => void;
}

export function createPublisher(deps: PublisherDeps): Publisher {
  const clock = deps.clock ?? (() => new Date());
  const home = deps.config.home.adminId;

  async function applyOne(tx: Sql, input: DecisionInput, now: Date): Promise<PublishResult> {
    const [seen] = await tx.query<{ aeo_id: string; record_id: string | null }>(
      'SELECT aeo_id, record_id::text FROM home_decision WHERE decision_id = $1',
      [input.decisionId],
    );
    // The decisionId decides: a retry answers what the first call did, whatever the retried body says.
    if (seen !== undefined) return replay(tx, input.decisionId, seen.aeo_id, seen.record_id);
    const today = now.toISOString().slice(0, 10);
    const current = await loadHomeOperator(tx, input.aeoId);
    const applied = applyDecision(current, input, today);
    const record = applied.publish ? await publishRecord(tx, applied, current, now, today) : null;
    await saveHomeOperator(
      tx,
      record === null ? applied.entry : { ...applied.entry, version: record.version },
      now,
    );
    await tx.query(
      'INSERT INTO home_decision (decision_id, aeo_id, decision, record_id, applied_at) VALUES ($1, $2, $3, $4, $5)',
      [input.decisionId, input.aeoId, input.decision, record?.recordId ?? null, now.toISOString()],
    );
    return { decisionId: input.decisionId, aeoId: input.aeoId, record, replayed: false };
  }

  async function publishRecord(
    tx: Sql,
    applied: Applied,
    current: HomeOperator | undefined,
    now: Date,
    today: string,
  ) {
    const version = (current?.version ?? 0) + 1;
    const record = recordOf(applied.entry, applied.publishedStatus, {
      recordId: randomUUID(),
      issuer: home,
      issuedAt: now.toISOString(),
      version,
      today,
    });
    const valid = validateAgainst('aeo-status-1', record);
    if (!valid.ok)
      throw new GatewayError('BODY_INVALID', `the record would not be valid: ${valid.errors.join('; ')}`);
    const jws = await signRecord(record, deps.config.home.signers[0]!);
    const [row] = await tx.query<{ seq: string }>(
      `INSERT INTO home_record (record_id, aeo_id, version, status, programme, roles, jws, digest, created_at)
       VALUES ($1, $2, $3, $4, $5, ARRAY(SELECT jsonb_array_elements_text($6::jsonb)), $7, $8, $9) RETURNING seq::text`,
      [
        record.recordId,
        record.operator.aeoId,
        version,
        record.status,
        record.programme,
        JSON.stringify(record.operator.roles),
        jws,
        recordDigest(jws),
        now.toISOString(),
      ],
    );
    const partners = await recipients(tx, record, version > 1, now);
    if (partners.length > 0) {
      await tx.query(
        `INSERT INTO outbox (partner, record_seq, created_at)
         SELECT p, $2::bigint, $3 FROM jsonb_array_elements_text($1::jsonb) AS p`,
        [JSON.stringify(partners), row!.seq, now.toISOString()],
      );
    }
    return { recordId: record.recordId, version, status: record.status, partners };
  }

  /**
   * Partners whose MRA in force covers the record, and partners that were sent an earlier version of the
   * operator: they must hear of a suspension or withdrawal even if the operator has since left their scope.
   * A `withdrawn` record goes only to partners that held the operator: the others have no benefits to end,
   * and an operator that withdrew its consent must not reach a partner that never had its details.
   * Sorted, so that a replay (which reads the rows back) answers exactly what the first call answered.
   */
  async function recipients(
    tx: Sql,
    record: AeoStatusRecord,
    hadEarlier: boolean,
    now: Date,
  ): Promise<string[]> {
    // A first version has no earlier one to look up: saves a query per operator on a register import.
    const earlier = hadEarlier
      ? await tx.query<{ partner: string }>(
          'SELECT DISTINCT o.partner FROM outbox o JOIN home_record h ON h.seq = o.record_seq WHERE h.aeo_id = $1',
          [record.operator.aeoId],
        )
      : [];
    const held = new Set(earlier.map((r) => r.partner));
    const covers = (p: Partner) =>
      record.status !== 'withdrawn' && mraCovers(p.mra, record.programme, record.operator.roles, now);
    return deps.config.partners
      .filter((p) => held.has(p.adminId) || covers(p))
      .map((p) => p.adminId)
      .sort();
  }

  async function replay(
    tx: Sql,
    decisionId: string,
    aeoId: string,
    recordId: string | null,
  ): Promise<PublishResult> {
    if (recordId === null) return { decisionId, aeoId, record: null, replayed: true };
    const rows = await tx.query<{ version: string; status: string; partner: string | null }>(
      `SELECT h.version::text, h.status, o.partner FROM home_record h LEFT JOIN outbox o ON o.record_seq = h.seq
        WHERE h.record_id = $1 ORDER BY o.partner`,
      [recordId],
    );
    const first = rows[0]!;
    const partners = rows.flatMap((r) => (r.partner === null ? [] : [r.partner]));
    return {
      decisionId,
      aeoId,
      record: { recordId, version: Number(first.version), status: first.status, partners },
      replayed: true,
    };
  }

  async function inOneTransaction<T>(
    inputs: readonly DecisionInput[],
    each: (tx: Sql, input: DecisionInput, now: Date) => Promise<T>,
    published: (out: T) => boolean,
    audited: (out: T, input: DecisionInput) => AuditEntry | undefined = () => undefined,
  ): Promise<T[]> {
    const now = clock();
    const results = await deps.store.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [PUBLISH_LOCK]);
      // Under the lock nobody else publishes, so the records this transaction writes are those above this.
      const [before] = await tx.query<{ last: string }>(
        'SELECT coalesce(max(seq), 0)::text AS last FROM home_record',
      );
      const out: T[] = [];
      for (const input of inputs) out.push(await each(tx, input, now));
      await appendAuditMany(
        tx,
        await auditOf(
          tx,
          Number(before?.last ?? 0),
          out.flatMap((o, i) => audited(o, inputs[i] as DecisionInput) ?? []),
        ),
      );
      return out;
    });
    const count = results.filter(published).length;
    if (count > 0) deps.onPublished?.(count);
    return results;
  }

  /** One 'records-published' entry for the records of the transaction, then the actions it chains. */
  async function auditOf(tx: Sql, lastBefore: number, actions: AuditEntry[]): Promise<AuditEntry[]> {
    const [range] = await tx.query<{ first: string | null; last: string | null }>(
      'SELECT min(seq)::text AS first, max(seq)::text AS last FROM home_record WHERE seq > $1',
      [lastBefore],
    );
    if (range?.first == null || range.last == null) return actions;
    return [await publishedEntry(tx, home, Number(range.first), Number(range.last)), ...actions];
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

  function decideMany(inputs: readonly DecisionInput[], actor?: string): Promise<PublishResult[]> {
    return inOneTransaction(inputs, applyOne, wroteOutbox, decisionAction(actor));
  }

  function decideEach(inputs: readonly DecisionInput[]): Promise<DecisionOutcome[]> {
    return inOneTransaction(
      inputs,
      async (tx, input, now): Promise<DecisionOutcome> => {
        try {
          return { ok: true, result: await applyOne(tx, input, now) };
        } catch (error) {
          // applyOne raises its refusals (GatewayError below 500) before it writes anything, so catching one
          // leaves the transaction as if this decision had not been in the chunk. Anything else (the store,
          // signing) is not about this line alone and rolls the chunk back.
          if (error instanceof GatewayError && error.status < 500)
            return { ok: false, code: error.code, detail: error.message };
          throw error;
        }
      },
      (o) => o.ok && wroteOutbox(o.result),
    );
  }

  return {
    decideMany,
    decideEach,
    async decide(input, actor) {
      const [result] = await decideMany([input], actor);
      return result!;
    },
  };
}
