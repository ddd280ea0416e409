/**
 * The delivery outbox as a flow of the outbox relay (outbox-relay.ts): committed outbox rows → delivery jobs,
 * a job saying "deliver rows first..last that carry my id".
 *
 * Per partner, one batch is in flight at a time, so batches reach the partner in outbox order even when one of
 * them is being retried (a later version never overtakes an earlier one); a batch the partner has answered with
 * a verified receipt is no longer in flight, even while that receipt is being kept. Publishing and inbound do
 * not depend on the relay.
 */
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.ts';
import { claimGraceMs, createOutboxRelay, type OutboxFlow, type OutboxRelay } from '../outbox-relay.ts';
import { type DeliveryJob, deliveryJobId } from '../queue/jobs.ts';
import type { JobProducer } from '../queue/producer.ts';
import { LOCK_CLASSES } from '../store/locks.ts';
import type { Sql, Store } from '../store/types.ts';
import { createPace } from './pace.ts';

// Two-key advisory locks (class, partner) live apart from the one-key locks of publishing and migrations.
const RELAY_LOCK_CLASS = LOCK_CLASSES.deliveryRelay;

export interface RelayDeps {
  config: GatewayConfig;
  store: Store;
  /**
   * Jobs whose partner answered with a verified receipt that is still being kept: their rows no longer hold
   * back the partner's next batch (deliver.ts, `onAnswered`).
   */
  answered?: ReadonlySet<string>;
  producer: JobProducer<DeliveryJob>;
  /** False while Redis is unreachable or refused. */
  usable: () => boolean;
  log: Logger;
}

/** Which of the partners ($1) have rows to deliver: one probe of outbox_open_partner each. */
export const PARTNERS_WITH_OPEN_ROWS = `SELECT p.partner FROM unnest($1::text[]) AS p(partner)
  WHERE EXISTS (SELECT 1 FROM outbox o WHERE o.partner = p.partner AND o.state IN ('pending', 'retrying'))`;

export function deliveryOutbox(
  config: GatewayConfig,
  store: Store,
  answered: ReadonlySet<string> = new Set(),
): OutboxFlow<DeliveryJob> {
  const graceMs = claimGraceMs(config.redis.commandTimeoutMs);
  return {
    label: 'delivery',
    oneInFlight: true,
    async due() {
      // Only partners with open rows: one probe of outbox_open_partner per configured partner, whatever the
      // number of open rows (an import leaves hundreds of thousands).
      const partners = config.partners.map((p) => p.adminId);
      const rows = await store.query<{ partner: string }>(PARTNERS_WITH_OPEN_ROWS, [partners]);
      const busy = new Set(rows.map((r) => r.partner));
      return partners.filter((id) => busy.has(id));
    },
    async lock(tx, partner) {
      const [lock] = await tx.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS ok',
        [RELAY_LOCK_CLASS, partner],
      );
      return lock?.ok === true;
    },
    async marked(tx, partner) {
      const open = await tx.query<{ job_id: string; recent: boolean }>(
        `SELECT job_id, bool_or(enqueued_at > now() - make_interval(secs => $2 / 1000.0)) AS recent FROM outbox
          WHERE state IN ('pending', 'retrying') AND enqueued_at IS NOT NULL AND partner = $1 GROUP BY job_id`,
        [partner, graceMs],
      );
      // A job the partner has answered is one it holds: the next batch reaches it after that one, in order.
      return open.filter((r) => !answered.has(r.job_id)).map((r) => ({ jobId: r.job_id, recent: r.recent }));
    },
    async claim(tx, partner) {
      const rows = await tx.query<{ id: string }>(
        `SELECT id::text AS id FROM outbox
          WHERE partner = $1 AND enqueued_at IS NULL AND state <> 'delivered' AND state <> 'dead'
          ORDER BY outbox.id LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [partner, config.outbound.batchSize],
      );
      if (rows.length === 0) return [];
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
      return [job];
    },
    async release(db: Sql, partner, jobIds) {
      await db.query(
        `UPDATE outbox SET enqueued_at = NULL, job_id = NULL
          WHERE partner = $1 AND job_id IN (SELECT jsonb_array_elements_text($2::jsonb))
            AND state IN ('pending', 'retrying')`,
        [partner, JSON.stringify(jobIds)],
      );
    },
  };
}

export function createRelay(deps: RelayDeps): OutboxRelay {
  return createOutboxRelay({
    flow: deliveryOutbox(deps.config, deps.store, deps.answered),
    store: deps.store,
    producer: deps.producer,
    jobIdOf: deliveryJobId,
    usable: deps.usable,
    log: deps.log,
    pace: createPace(deps.config.outbound.requestsPerMinute),
  });
}
