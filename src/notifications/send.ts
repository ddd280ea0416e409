/**
 * The worker's step: one notification row → a signed POST to its subscription's URL → delivered on a 2xx, or
 * retried with backoff and jitter, or dead after the configured attempts. What is sent is read from
 * PostgreSQL, never from the job; every write names the states it moves from, so a redelivered job (BullMQ is
 * at-least-once) cannot undo a settled row, and a row settled already is not sent again.
 */
import type { Logger } from 'pino';
import { request } from 'undici';
import type { OutboundSettings } from '../config/types.ts';
import { retryDelayMs } from '../outbound/backoff.ts';
import type { NotificationJob } from '../queue/notification-queue.ts';
import { messageOf } from '../queue/timeout.ts';
import type { JobVerdict } from '../queue/worker.ts';
import type { Store } from '../store/types.ts';
import { webhookHeaders } from './signature.ts';

export interface SendDeps {
  store: Store;
  /** Attempts, backoff and the request timeout are the outbound delivery's. */
  settings: OutboundSettings;
  log: Logger;
}

interface OpenNotification {
  event_id: string;
  type: string;
  payload: unknown;
  attempts: number;
  created_at: Date;
  url: string;
  secret: string;
}

/**
 * The body a receiver gets, Standard Webhooks style: the type, when the event happened (the commit, or the
 * instant a later-dated version took effect), and its data.
 */
export function bodyOf(row: Pick<OpenNotification, 'type' | 'created_at' | 'payload'>): string {
  return JSON.stringify({
    type: row.type,
    timestamp: new Date(row.created_at).toISOString(),
    data: row.payload,
  });
}

export function createSender(deps: SendDeps) {
  const { store, settings, log } = deps;
  return async function send(job: NotificationJob): Promise<JobVerdict> {
    const [row] = await store.query<OpenNotification>(
      `SELECT n.event_id::text, n.type, n.payload, n.attempts,
              coalesce(n.deliver_after, n.created_at) AS created_at, s.url, s.secret
         FROM notification n JOIN webhook_subscription s ON s.id = n.subscription_id
        WHERE n.id = $1 AND n.state IN ('pending', 'retrying')`,
      [job.id],
    );
    if (row === undefined) return { kind: 'done' }; // settled already, or its subscription was deleted
    const body = bodyOf(row);
    let failure: string;
    try {
      // Bounded both ways: a receiver that accepts and never answers costs one timeout, then a retry.
      const res = await request(row.url, {
        method: 'POST',
        headers: webhookHeaders(row.secret, row.event_id, body, new Date()),
        body,
        headersTimeout: settings.requestTimeoutMs,
        bodyTimeout: settings.requestTimeoutMs,
      });
      await res.body.dump({ limit: 64 * 1024 }).catch(() => {});
      if (res.statusCode >= 200 && res.statusCode < 300) {
        await store.query(
          `UPDATE notification SET state = 'delivered', attempts = attempts + 1, delivered_at = now()
            WHERE id = $1 AND state IN ('pending', 'retrying')`,
          [job.id],
        );
        return { kind: 'done' };
      }
      failure = `HTTP ${res.statusCode}`;
    } catch (error) {
      failure = `no answer: ${messageOf(error)}`.slice(0, 300);
    }
    const attempt = Number(row.attempts) + 1;
    const dead = attempt >= settings.attempts;
    await store.query(
      `UPDATE notification SET state = $2, attempts = attempts + 1, last_error = $3
        WHERE id = $1 AND state IN ('pending', 'retrying')`,
      [job.id, dead ? 'dead' : 'retrying', failure],
    );
    const context = { notification: job.id, type: row.type, attempt, reason: failure };
    if (dead) {
      log.warn(context, 'notification dead-lettered');
      return { kind: 'give-up', reason: `gave up after ${attempt} attempts: ${failure}` };
    }
    const delayMs = retryDelayMs(attempt, settings);
    log.info({ ...context, delayMs }, 'notification not delivered; will retry');
    return { kind: 'retry', delayMs, reason: failure };
  };
}
