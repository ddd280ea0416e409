/**
 * The worker's step: one notification row → a signed POST to its subscription's URL → delivered on a 2xx, or
 * retried with backoff and jitter, or dead after the configured attempts. What is sent is read from
 * PostgreSQL, never from the job; every write names the states it moves from, so a redelivered job (BullMQ is
 * at-least-once) cannot undo a settled row, and a row settled already is not sent again.
 */
import type { Logger } from 'pino';
import type { OutboundSettings } from '../config/types.ts';
import type { GatewayMetrics } from '../metrics/metrics.ts';
import type { JobVerdict } from '../queue/job-kind.ts';
import type { NotificationJob } from '../queue/jobs.ts';
import { retryDelayMs } from '../queue/retry.ts';
import type { Store } from '../store/types.ts';
import type { SecretVault } from './secrets.ts';
import { webhookHeaders } from './signature.ts';
import type { FailureClass, WebhookPoster } from './webhook-post.ts';

export interface SendDeps {
  store: Store;
  /** Attempts and backoff are the outbound delivery's; the request bound is the poster's. */
  settings: OutboundSettings;
  post: WebhookPoster;
  vault: SecretVault;
  log: Logger;
  /** Decides whether a rotated-out secret still signs. */
  clock?: () => Date;
  metrics?: GatewayMetrics;
}

interface OpenNotification {
  event_id: string;
  type: string;
  payload: unknown;
  attempts: number;
  created_at: Date;
  subscription_id: string;
  url: string;
  secret: string;
  secret_key_id: string | null;
  previous_secret: string | null;
  previous_secret_key_id: string | null;
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
  const { store, settings, log, vault } = deps;
  const clock = deps.clock ?? (() => new Date());
  return async function send(job: NotificationJob): Promise<JobVerdict> {
    const [row] = await store.query<OpenNotification>(
      `SELECT n.event_id::text, n.type, n.payload, n.attempts,
              coalesce(n.deliver_after, n.created_at) AS created_at, s.id::text AS subscription_id, s.url,
              s.secret, s.secret_key_id,
              CASE WHEN s.previous_secret_until > $2 THEN s.previous_secret END AS previous_secret,
              s.previous_secret_key_id
         FROM notification n JOIN webhook_subscription s ON s.id = n.subscription_id
        WHERE n.id = $1 AND n.state IN ('pending', 'retrying')`,
      [job.id, clock().toISOString()],
    );
    if (row === undefined) return { kind: 'done' }; // settled already, or its subscription was deleted
    const body = bodyOf(row);
    let failure: FailureClass;
    let detail: string;
    const secrets = secretsOf(vault, row);
    if (typeof secrets === 'string') {
      failure = 'gateway';
      detail = secrets;
    } else {
      // Bounded both ways: a receiver that accepts and never answers costs one timeout, then a retry.
      const outcome = await deps.post(row.url, webhookHeaders(secrets, row.event_id, body, new Date()), body);
      if (outcome.ok) {
        await store.query(
          `UPDATE notification SET state = 'delivered', attempts = attempts + 1, delivered_at = now()
            WHERE id = $1 AND state IN ('pending', 'retrying')`,
          [job.id],
        );
        deps.metrics?.notification('sent');
        return { kind: 'done' };
      }
      failure = outcome.failure;
      detail = outcome.detail;
    }
    const attempt = Number(row.attempts) + 1;
    const dead = attempt >= settings.attempts;
    // The subscriber sees the class; the detail, which may name addresses and ports, stays in this log.
    await store.query(
      `UPDATE notification SET state = $2, attempts = attempts + 1, last_error = $3
        WHERE id = $1 AND state IN ('pending', 'retrying')`,
      [job.id, dead ? 'dead' : 'retrying', failure],
    );
    const context = {
      notification: job.id,
      subscription: row.subscription_id,
      type: row.type,
      attempt,
      failure,
      detail,
    };
    deps.metrics?.notification(dead ? 'dead' : 'failed');
    if (dead) {
      log.warn(context, 'notification dead-lettered');
      return { kind: 'give-up', reason: `gave up after ${attempt} attempts: ${failure}` };
    }
    const delayMs = retryDelayMs(attempt, settings);
    log.info({ ...context, delayMs }, 'notification not delivered; will retry');
    return { kind: 'retry', delayMs, reason: failure };
  };
}

/** The secrets that sign: the current one, then a rotated-out one still in its overlap. */
function secretsOf(vault: SecretVault, row: OpenNotification): string[] | string {
  try {
    const current = vault.open(row.subscription_id, { secret: row.secret, keyId: row.secret_key_id });
    if (row.previous_secret === null) return [current];
    const previous = vault.open(row.subscription_id, {
      secret: row.previous_secret,
      keyId: row.previous_secret_key_id,
    });
    return [current, previous];
  } catch (error) {
    return `the subscription's secret cannot be opened: ${(error as Error).message}`;
  }
}
