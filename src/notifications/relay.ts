/**
 * The notification outbox as a flow of the outbox relay (outbox-relay.ts): committed rows → one job per
 * subscription and pass (in parts of at most PER_JOB rows). Only the oldest open row of each operator and
 * subscription is claimed, so an operator's events reach a subscriber in commit (hence version) order even
 * while one of them is retried, and a job never holds two rows of one operator; a dead row no longer holds
 * back the next. Rows whose job Redis lost are looked for every few seconds, once their claim is old enough.
 */
import type { Logger } from 'pino';
import { createOutboxRelay, type OutboxFlow, type OutboxRelay } from '../outbox-relay.ts';
import {
  NOTIFICATION_BATCH_JOBS,
  NOTIFICATIONS_KEY,
  type NotificationBatchJob,
  type NotificationJob,
} from '../queue/jobs.ts';
import type { JobProducer } from '../queue/producer.ts';
import { LOCKS } from '../store/locks.ts';
import type { Store } from '../store/types.ts';

const RELAY_LOCK = LOCKS.notificationRelay;
const BATCH = 500;
/** Rows of one job at most: bounds what one job's run (its requests, side by side) may take. */
export const PER_JOB = 64;
const RECOVERY_EVERY_MS = 5_000;

export function notificationOutbox(
  store: Store,
  claimGraceMs: number,
  /** Decides which held rows are due; the wall clock in production. */
  clock: () => Date,
): OutboxFlow<NotificationBatchJob | NotificationJob> {
  let lastRecovery = 0;
  const recoveryDue = () => Date.now() - lastRecovery > RECOVERY_EVERY_MS;
  // Whether this pass's read of the marked rows was a recovery: it counts as done once the pass claims (with the
  // lock held), not when the read goes out with the lock, which may be refused.
  let recovering = false;
  return {
    label: 'notification',
    oneInFlight: false,
    async due() {
      if (recoveryDue()) return [NOTIFICATIONS_KEY];
      const [open] = await store.query<{ any: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM notification WHERE state IN ('pending', 'retrying') AND enqueued_at IS NULL
            AND (deliver_after IS NULL OR deliver_after <= $1)) AS any`,
        [clock().toISOString()],
      );
      return open?.any === true ? [NOTIFICATIONS_KEY] : [];
    },
    async lock(tx) {
      const [lock] = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [
        RELAY_LOCK,
      ]);
      return lock?.ok === true;
    },
    async marked(tx) {
      if (!recoveryDue()) return [];
      recovering = true;
      // Only claims older than the grace: a younger one is taken as being added right now.
      const rows = await tx.query<{ job_id: string }>(
        `SELECT job_id FROM notification WHERE state IN ('pending', 'retrying') AND enqueued_at IS NOT NULL
            AND enqueued_at < now() - make_interval(secs => $1 / 1000.0)
          GROUP BY job_id ORDER BY min(id) LIMIT $2`,
        [claimGraceMs, BATCH],
      );
      return rows.map((r) => ({ jobId: r.job_id, recent: false }));
    },
    async claim(tx) {
      if (recovering) lastRecovery = Date.now();
      recovering = false;
      // Per operator and subscription, one open row at a time: rows due at once in id order (version order),
      // then held rows by due time. A held row never keeps back one due at once, so a version that takes
      // effect today is not kept behind one dated next week (whose lower version its consumer then drops).
      const rows = await tx.query<{ id: string; subscription_id: string }>(
        `SELECT n.id::text, n.subscription_id::text FROM notification n
          WHERE n.state IN ('pending', 'retrying') AND n.enqueued_at IS NULL
            AND (n.deliver_after IS NULL OR n.deliver_after <= $2)
            AND NOT EXISTS (SELECT 1 FROM notification p WHERE p.subscription_id = n.subscription_id
                              AND p.order_key = n.order_key AND p.state IN ('pending', 'retrying')
                              AND (coalesce(p.deliver_after, '-infinity'), p.id)
                                < (coalesce(n.deliver_after, '-infinity'), n.id))
          ORDER BY n.id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [BATCH, clock().toISOString()],
      );
      if (rows.length === 0) return [];
      const jobs = batchesOf(rows);
      await tx.query(
        `UPDATE notification n SET enqueued_at = now(), job_id = m.job
           FROM jsonb_to_recordset($1::jsonb) AS m(id bigint, job text) WHERE n.id = m.id`,
        [
          JSON.stringify(
            jobs.flatMap(({ job, ids }) =>
              ids.map((id) => ({ id, job: NOTIFICATION_BATCH_JOBS.jobId(job) })),
            ),
          ),
        ],
      );
      return jobs.map((j) => j.job);
    },
    async release(db, _key, jobIds) {
      await db.query(
        `UPDATE notification SET enqueued_at = NULL, job_id = NULL
          WHERE job_id IN (SELECT jsonb_array_elements_text($1::jsonb)) AND state IN ('pending', 'retrying')`,
        [JSON.stringify(jobIds)],
      );
    },
  };
}

/** Claimed rows (in id order) as jobs: per subscription, parts of at most PER_JOB rows, in id order. */
function batchesOf(
  rows: readonly { id: string; subscription_id: string }[],
): { job: NotificationBatchJob; ids: number[] }[] {
  const bySubscription = new Map<string, number[]>();
  for (const r of rows) {
    const ids = bySubscription.get(r.subscription_id) ?? [];
    ids.push(Number(r.id));
    bySubscription.set(r.subscription_id, ids);
  }
  const jobs: { job: NotificationBatchJob; ids: number[] }[] = [];
  for (const [subscription, ids] of bySubscription) {
    for (let i = 0; i < ids.length; i += PER_JOB) {
      const part = ids.slice(i, i + PER_JOB);
      jobs.push({ job: { v: 1, subscription, firstId: part[0]!, lastId: part.at(-1)! }, ids: part });
    }
  }
  return jobs;
}

export function createNotificationRelay(deps: {
  store: Store;
  producer: JobProducer<NotificationBatchJob | NotificationJob>;
  usable: () => boolean;
  log: Logger;
  claimGraceMs: number;
  clock?: () => Date;
}): OutboxRelay {
  return createOutboxRelay({
    flow: notificationOutbox(deps.store, deps.claimGraceMs, deps.clock ?? (() => new Date())),
    store: deps.store,
    producer: deps.producer,
    jobIdOf: (job) => NOTIFICATION_BATCH_JOBS.jobId(job),
    usable: deps.usable,
    log: deps.log,
  });
}
