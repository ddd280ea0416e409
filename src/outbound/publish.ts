/**
 * Outbound flow, first half: a decision of the national AEO system → the register entry → a signed record →
 * the record and one outbox row per partner, committed in one transaction. Delivery (relay.ts, deliver.ts)
 * only ever reads what this committed, so nothing acknowledged here can be lost.
 */
import { randomUUID } from 'node:crypto';
import type { GatewayConfig } from '../config/types.ts';
import { recordDigest } from '../crypto/digest.ts';
import { GatewayError } from '../errors.ts';
import { mraCovers } from '../mra/scope.ts';
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

export interface Publisher {
  decide(input: DecisionInput): Promise<PublishResult>;
  /** Applies several decisions in one transaction (bulk import); results in input order. */
  decideMany(inputs: readonly DecisionInput[]): Promise<PublishResult[]>;
}

export interface PublisherDeps {
  config: GatewayConfig;
  store: Store;
  clock?: () => Date;
  /** Called after a commit that wrote outbox rows, so the relay moves them without waiting for its poll. */
  onPublished?: () => void;
}

export function createPublisher(deps: PublisherDeps): Publisher {
  const clock = deps.clock ?? (() => new Date());
  const home = deps.config.home.adminId;

  async function applyOne(tx: Sql, input: DecisionInput, now: Date): Promise<PublishResult> {
    const seen = await tx.query<{ record_id: string | null }>(
      'SELECT record_id::text FROM home_decision WHERE decision_id = $1',
      [input.decisionId],
    );
    if (seen.length > 0) return replay(tx, input, seen[0]!.record_id);
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
    const partners = await recipients(
      tx,
      record.operator.aeoId,
      record.programme,
      record.operator.roles,
      now,
    );
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
   */
  async function recipients(
    tx: Sql,
    aeoId: string,
    programme: HomeOperator['programme'],
    roles: HomeOperator['operator']['roles'],
    now: Date,
  ) {
    const earlier = await tx.query<{ partner: string }>(
      'SELECT DISTINCT o.partner FROM outbox o JOIN home_record h ON h.seq = o.record_seq WHERE h.aeo_id = $1',
      [aeoId],
    );
    const held = new Set(earlier.map((r) => r.partner));
    return deps.config.partners
      .filter((p) => held.has(p.adminId) || mraCovers(p.mra, programme, roles, now))
      .map((p) => p.adminId);
  }

  async function replay(tx: Sql, input: DecisionInput, recordId: string | null): Promise<PublishResult> {
    if (recordId === null)
      return { decisionId: input.decisionId, aeoId: input.aeoId, record: null, replayed: true };
    const rows = await tx.query<{ version: string; status: string; partner: string | null }>(
      `SELECT h.version::text, h.status, o.partner FROM home_record h LEFT JOIN outbox o ON o.record_seq = h.seq
        WHERE h.record_id = $1 ORDER BY o.partner`,
      [recordId],
    );
    const first = rows[0]!;
    const partners = rows.flatMap((r) => (r.partner === null ? [] : [r.partner]));
    return {
      decisionId: input.decisionId,
      aeoId: input.aeoId,
      record: { recordId, version: Number(first.version), status: first.status, partners },
      replayed: true,
    };
  }

  async function decideMany(inputs: readonly DecisionInput[]): Promise<PublishResult[]> {
    const now = clock();
    const results = await deps.store.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [PUBLISH_LOCK]);
      const out: PublishResult[] = [];
      for (const input of inputs) out.push(await applyOne(tx, input, now));
      return out;
    });
    if (results.some((r) => r.record !== null && r.record.partners.length > 0 && !r.replayed))
      deps.onPublished?.();
    return results;
  }

  return {
    decideMany,
    async decide(input) {
      const [result] = await decideMany([input]);
      return result!;
    },
  };
}
