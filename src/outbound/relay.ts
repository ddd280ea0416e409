/**
 * The relay of the transactional outbox: committed outbox rows → delivery jobs in BullMQ. PostgreSQL stays the
 * source of truth; a job only says "deliver rows first..last that carry my id".
 *
 * Per partner, one batch is in flight at a time, so batches reach the partner in outbox order even when one of
 * them is being retried (a later version never overtakes an earlier one). A batch is claimed (rows marked with
 * the job's deterministic id) in one transaction under the partner's advisory lock, selecting with SKIP LOCKED,
 * so replicas never enqueue the same rows twice; the job is added after the commit. When Redis lost the job of
 * a batch (restart without persistence, THREATS.md 54), its rows are claimed again.
 * With Redis down the rows simply wait in PostgreSQL: publishing and inbound do not depend on the relay.
 */
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.ts';
import { createPassRunner } from '../pass-runner.ts';
import { type DeliveryJob, deliveryJobId } from '../queue/jobs.ts';
import type { DeliveryProducer } from '../queue/producer.ts';
import { messageOf } from '../queue/timeout.ts';
import type { Sql, Store } from '../store/types.ts';

// Two-key advisory locks (class, partner) live apart from the one-key locks of publishing and migrations.
const RELAY_LOCK_CLASS = 7_411;

export interface Relay {
  /** Asks for a pass soon; passes never overlap, and wakes during one are folded into the next. */
  wake(): void;
  /** One pass over every partner; resolves when done. */
  runOnce(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

export interface RelayDeps {
  config: GatewayConfig;
  store: Store;
  producer: DeliveryProducer;
  /** False while Redis is unreachable or refused: the pass is skipped rather than failing call by call. */
  usable: () => boolean;
  log: Logger;
}

export function createRelay(deps: RelayDeps): Relay {
  const { config, store, producer, log } = deps;
  // A claim younger than this whose job is not in Redis is taken as being added right now, not as lost.
  const claimGraceMs = 2 * config.redis.commandTimeoutMs + 1_000;
  // The last failure per partner, so an outage is logged when it starts and when it ends, not every tick.
  const failing = new Map<string, string>();

  /**
   * Under the partner's lock: the batch in flight, if any, else the next rows marked with their job's id.
   * Returns the job to add once the marks are committed: a job added before the commit could run first, find
   * no rows with its id, and finish having sent nothing.
   */
  async function claimBatch(tx: Sql, partner: string): Promise<DeliveryJob | undefined> {
    const [lock] = await tx.query<{ ok: boolean }>(
      'SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS ok',
      [RELAY_LOCK_CLASS, partner],
    );
    if (!lock?.ok) return undefined; // another replica is relaying this partner right now
    const open = await tx.query<{ job_id: string; recent: boolean }>(
      `SELECT job_id, bool_or(enqueued_at > now() - make_interval(secs => $2 / 1000.0)) AS recent FROM outbox
        WHERE state IN ('pending', 'retrying') AND enqueued_at IS NOT NULL AND partner = $1 GROUP BY job_id`,
      [partner, claimGraceMs],
    );
    for (const { job_id: jobId, recent } of open) {
      const presence = await producer.presence(partner, jobId);
      // In flight; or just claimed (by another replica) and its job not added yet.
      if (presence === 'open' || (presence === 'missing' && recent)) return undefined;
      // Completed or failed with rows still open, or gone with Redis: the rows go out again. Removing a
      // finished job frees its id, which the same rows would be enqueued under.
      if (presence === 'finished') await producer.remove(partner, jobId);
      await tx.query(
        `UPDATE outbox SET enqueued_at = NULL, job_id = NULL
          WHERE partner = $1 AND job_id = $2 AND state IN ('pending', 'retrying')`,
        [partner, jobId],
      );
      log.warn(
        { partner, jobId, presence },
        'outbox rows whose job is no longer in Redis are enqueued again',
      );
    }
    const rows = await tx.query<{ id: string }>(
      `SELECT id::text AS id FROM outbox
        WHERE partner = $1 AND enqueued_at IS NULL AND state <> 'delivered' AND state <> 'dead'
        ORDER BY outbox.id LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [partner, config.outbound.batchSize],
    );
    if (rows.length === 0) return undefined;
    const job: DeliveryJob = {
      v: 1,
      partner,
      firstId: Number(rows[0]!.id),
      lastId: Number(rows[rows.length - 1]!.id),
    };
    await tx.query(
      `UPDATE outbox SET enqueued_at = now(), job_id = $2
        WHERE id IN (SELECT (jsonb_array_elements_text($1::jsonb))::bigint)`,
      [JSON.stringify(rows.map((r) => r.id)), deliveryJobId(job)],
    );
    return job;
  }

  async function relayPartner(partner: string): Promise<void> {
    const job = await store.transaction((tx) => claimBatch(tx, partner));
    if (job === undefined) return;
    try {
      await producer.add(job);
    } catch (error) {
      // Not in Redis (or not known to be): the rows are unmarked for the next pass. Should the job exist after
      // all, it finds no rows with its id and does nothing; the next pass enqueues the same id again.
      await store
        .query(
          `UPDATE outbox SET enqueued_at = NULL, job_id = NULL
            WHERE partner = $1 AND job_id = $2 AND state IN ('pending', 'retrying')`,
          [partner, deliveryJobId(job)],
        )
        .catch(() => {}); // left marked, the rows are recovered once the claim grace has passed
      throw error;
    }
  }

  function noteFailure(key: string, error: unknown): void {
    const message = messageOf(error);
    if (failing.get(key) !== message) {
      log.warn({ at: key, err: message }, 'relay pass failed; the outbox keeps the rows, retrying later');
    }
    failing.set(key, message);
  }

  async function pass(): Promise<void> {
    if (!deps.usable()) return;
    // Only partners with open rows: an idle gateway costs one indexed query a tick, not a transaction per partner.
    let busy: Set<string>;
    try {
      const rows = await store.query<{ partner: string }>(
        `SELECT DISTINCT partner FROM outbox WHERE state IN ('pending', 'retrying')`,
      );
      busy = new Set(rows.map((r) => r.partner));
    } catch (error) {
      noteFailure('outbox', error);
      return;
    }
    failing.delete('outbox');
    for (const partner of config.partners) {
      if (runner.stopped) return;
      const id = partner.adminId;
      if (!busy.has(id)) continue;
      try {
        await relayPartner(id);
        if (failing.delete(id)) log.info({ partner: id }, 'relay working again');
      } catch (error) {
        noteFailure(id, error);
      }
    }
  }

  const runner = createPassRunner(pass);

  return {
    wake: runner.wake,
    async runOnce() {
      await runner.settled();
      await pass();
    },
    start: () => runner.start(config.outbound.relayIntervalMs),
    stop: () => runner.stop(),
  };
}
