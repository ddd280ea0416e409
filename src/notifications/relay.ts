/**
 * The relay of the notification outbox: committed rows → jobs. Only the oldest open row of each operator and
 * subscription is enqueued, so an operator's events reach a subscriber in commit (hence version) order even
 * while one of them is retried; a dead row no longer holds back the next. Rows are claimed under an advisory
 * lock with SKIP LOCKED, so replicas never enqueue a row twice, and jobs are added after the claim commits.
 * Rows whose job Redis lost (a restart without persistence, THREATS.md 54) are claimed again.
 */
import type { Logger } from 'pino';
import { createPassRunner } from '../pass-runner.ts';
import type { NotificationQueue } from '../queue/notification-queue.ts';
import { messageOf } from '../queue/timeout.ts';
import type { Store } from '../store/types.ts';

const RELAY_LOCK = 7_411_606;
const BATCH = 500;
const RECOVERY_EVERY_MS = 5_000;

export interface NotificationRelay {
  wake(): void;
  start(intervalMs: number): void;
  stop(): Promise<void>;
}

export function createNotificationRelay(
  store: Store,
  queue: NotificationQueue,
  log: Logger,
  claimGraceMs: number,
  /** Decides which held rows are due; the wall clock in production. */
  clock: () => Date = () => new Date(),
): NotificationRelay {
  let lastRecovery = 0;
  let failing: string | undefined;

  /** Rows claimed a while ago whose job is gone or finished with the row still open go back to the relay. */
  async function recover(): Promise<void> {
    const rows = await store.query<{ id: string }>(
      `SELECT id::text FROM notification WHERE state IN ('pending', 'retrying') AND enqueued_at IS NOT NULL
          AND enqueued_at < now() - make_interval(secs => $1 / 1000.0) ORDER BY notification.id LIMIT $2`,
      [claimGraceMs, BATCH],
    );
    for (const { id } of rows) {
      const presence = await queue.presence(Number(id));
      if (presence === 'open') continue;
      if (presence === 'finished') await queue.remove(Number(id));
      await store.query(
        `UPDATE notification SET enqueued_at = NULL, job_id = NULL WHERE id = $1 AND state IN ('pending', 'retrying')`,
        [id],
      );
      log.warn(
        { notification: id, presence },
        'notification whose job is no longer in Redis is enqueued again',
      );
    }
  }

  async function claim(): Promise<number[]> {
    // An idle gateway costs one indexed query a tick, not a transaction.
    const [open] = await store.query<{ any: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM notification WHERE state IN ('pending', 'retrying') AND enqueued_at IS NULL
          AND (deliver_after IS NULL OR deliver_after <= $1)) AS any`,
      [clock().toISOString()],
    );
    if (open?.any !== true) return [];
    return store.transaction(async (tx) => {
      const [lock] = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [
        RELAY_LOCK,
      ]);
      if (!lock?.ok) return [];
      // Per operator and subscription, one open row at a time: rows due at once in id order (version order),
      // then held rows by due time. A held row never keeps back one due at once, so a version that takes
      // effect today is not kept behind one dated next week (whose lower version its consumer then drops).
      const rows = await tx.query<{ id: string }>(
        `SELECT n.id::text FROM notification n
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
      await tx.query(
        `UPDATE notification SET enqueued_at = now(), job_id = 'notification-' || id
          WHERE id IN (SELECT (jsonb_array_elements_text($1::jsonb))::bigint)`,
        [JSON.stringify(rows.map((r) => r.id))],
      );
      return rows.map((r) => Number(r.id));
    });
  }

  async function pass(): Promise<void> {
    if (!queue.connected()) return;
    try {
      if (Date.now() - lastRecovery > RECOVERY_EVERY_MS) {
        lastRecovery = Date.now();
        await recover();
      }
      const ids = await claim();
      for (const [i, id] of ids.entries()) {
        try {
          await queue.add(id);
        } catch (error) {
          // Not in Redis (or not known to be): unmarked for the next pass; a job that exists after all finds
          // its row settled or sends it once more, which the webhook-id lets the receiver recognise.
          await store
            .query(
              `UPDATE notification SET enqueued_at = NULL, job_id = NULL
                WHERE id IN (SELECT (jsonb_array_elements_text($1::jsonb))::bigint) AND state IN ('pending', 'retrying')`,
              [JSON.stringify(ids.slice(i))],
            )
            .catch(() => {});
          throw error;
        }
      }
      if (failing !== undefined) log.info('notification relay working again');
      failing = undefined;
    } catch (error) {
      const message = messageOf(error);
      if (failing !== message)
        log.warn({ err: message }, 'notification relay pass failed; rows wait in PostgreSQL');
      failing = message;
    }
  }

  const runner = createPassRunner(pass);

  return {
    wake: runner.wake,
    start: (intervalMs) => runner.start(intervalMs),
    stop: () => runner.stop(),
  };
}
