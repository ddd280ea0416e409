/**
 * The worker's step: the open rows of one job (one subscription, at most one row per operator) → one signed
 * POST per row, side by side over kept-alive connections to the addresses checked once for the job → settled
 * in one statement: delivered on a 2xx, or retrying, or dead after the configured attempts. A job with rows
 * left retrying runs again after the backoff of the earliest, sending only those. What is sent is read from
 * PostgreSQL by the job's id, never from the job; every write names the states it moves from, so a
 * redelivered job (BullMQ is at-least-once) cannot undo a settled row, and a row settled already is not sent
 * again.
 */
import type { Logger } from 'pino';
import type { OutboundSettings } from '../config/types.ts';
import type { GatewayMetrics } from '../metrics/metrics.ts';
import type { JobHandler, JobVerdict } from '../queue/job-kind.ts';
import { retryDelayMs } from '../queue/retry.ts';
import type { Store } from '../store/types.ts';
import type { SecretVault } from './secrets.ts';
import { webhookHeaders } from './signature.ts';
import type { FailureClass, OpenOutcome, PostOutcome } from './webhook-post.ts';

/** Requests of one job at once, to its one receiver. */
export const REQUESTS_PER_JOB = 8;
/** Failures that say the receiver is down, not that it refused one notification: the job stops sending. */
const RECEIVER_DOWN: ReadonlySet<FailureClass> = new Set([
  'timeout',
  'refused',
  'tls',
  'network',
  'http-5xx',
]);

export interface SendDeps {
  store: Store;
  /** Attempts and backoff are the outbound delivery's; the request bound is the poster's. */
  settings: OutboundSettings;
  /** Opens a session with a receiver (webhook-post.ts). */
  open: (url: string, connections: number) => Promise<OpenOutcome>;
  vault: SecretVault;
  log: Logger;
  /** Decides whether a rotated-out secret still signs. */
  clock?: () => Date;
  metrics?: GatewayMetrics;
}

interface OpenNotification {
  id: string;
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

type Failed = Extract<PostOutcome, { ok: false }>;

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

export function createSender<T>(deps: SendDeps): JobHandler<T> {
  const { store, settings, log, vault } = deps;
  const clock = deps.clock ?? (() => new Date());

  /**
   * Each row's outcome, in the rows' order; the rows are of one subscription. Once the receiver times out,
   * refuses, fails TLS or answers 5xx, the rows not sent yet are left unsent (undefined): a receiver that is
   * down costs a job one failure, not one timeout per row, and holds up no other subscriber's jobs.
   */
  async function attempt(rows: readonly OpenNotification[]): Promise<(PostOutcome | undefined)[]> {
    const first = rows[0]!;
    const secrets = secretsOf(vault, first);
    if (typeof secrets === 'string')
      return rows.map(() => ({ ok: false, failure: 'gateway', detail: secrets }));
    // As many connections as a job may use, whatever this one needs: a later job reuses them (webhook-post.ts).
    const opened = await deps.open(first.url, REQUESTS_PER_JOB);
    if (!opened.ok) return rows.map(() => opened);
    const { session } = opened;
    try {
      const outcomes: (PostOutcome | undefined)[] = new Array(rows.length).fill(undefined);
      let next = 0;
      let receiverDown = false;
      // Bounded both ways: a receiver that accepts and never answers costs one timeout per lane, then a retry.
      const lane = async (): Promise<void> => {
        for (let i = next++; i < rows.length && !receiverDown; i = next++) {
          const row = rows[i]!;
          const body = bodyOf(row);
          const outcome = await session.post(webhookHeaders(secrets, row.event_id, body, new Date()), body);
          outcomes[i] = outcome;
          if (!outcome.ok && RECEIVER_DOWN.has(outcome.failure)) receiverDown = true;
        }
      };
      await Promise.all(Array.from({ length: Math.min(rows.length, REQUESTS_PER_JOB) }, lane));
      return outcomes;
    } finally {
      session.close();
    }
  }

  return async function send(_job, { jobId }): Promise<JobVerdict> {
    const rows = await store.query<OpenNotification>(
      `SELECT n.id::text, n.event_id::text, n.type, n.payload, n.attempts,
              coalesce(n.deliver_after, n.created_at) AS created_at, s.id::text AS subscription_id, s.url,
              s.secret, s.secret_key_id,
              CASE WHEN s.previous_secret_until > $2 THEN s.previous_secret END AS previous_secret,
              s.previous_secret_key_id
         FROM notification n JOIN webhook_subscription s ON s.id = n.subscription_id
        WHERE n.job_id = $1 AND n.state IN ('pending', 'retrying')
        ORDER BY n.id`,
      [jobId, clock().toISOString()],
    );
    if (rows.length === 0) return { kind: 'done' }; // settled already, or its subscription was deleted
    const bySubscription = new Map<string, OpenNotification[]>();
    for (const row of rows) {
      const group = bySubscription.get(row.subscription_id) ?? [];
      group.push(row);
      bySubscription.set(row.subscription_id, group);
    }
    const groups = [...bySubscription.values()];
    const outcomes = (await Promise.all(groups.map(attempt))).flat();
    const sent = groups.flat();

    const unsent = sent.filter((_, i) => outcomes[i] === undefined);
    type Settled = { row: OpenNotification; state: 'delivered' | 'dead' | 'retrying'; failed?: Failed };
    const settled = sent.flatMap((row, i): Settled[] => {
      const outcome = outcomes[i];
      if (outcome === undefined) return [];
      if (outcome.ok) return [{ row, state: 'delivered' }];
      const dead = Number(row.attempts) + 1 >= settings.attempts;
      return [{ row, state: dead ? 'dead' : 'retrying', failed: outcome }];
    });
    // The subscriber sees the class; the detail, which may name addresses and ports, stays in this log.
    await store.query(
      `UPDATE notification n SET state = m.state, attempts = n.attempts + 1,
              last_error = CASE WHEN m.state = 'delivered' THEN n.last_error ELSE m.failure END,
              delivered_at = CASE WHEN m.state = 'delivered' THEN now() ELSE n.delivered_at END
         FROM jsonb_to_recordset($1::jsonb) AS m(id bigint, state text, failure text)
        WHERE n.id = m.id AND n.state IN ('pending', 'retrying')`,
      [
        JSON.stringify(
          settled.map((s) => ({ id: s.row.id, state: s.state, failure: s.failed?.failure ?? null })),
        ),
      ],
    );

    // Rows left unsent because their receiver failed: no attempt is counted; the job's retry sends them.
    if (unsent.length > 0)
      log.info(
        { subscription: unsent[0]!.subscription_id, notifications: unsent.length },
        'notifications not sent: their receiver failed earlier in the job; sent with its retry',
      );
    let retryInMs: number | undefined;
    let dead = 0;
    let reason: FailureClass | undefined;
    for (const s of settled) {
      if (s.state === 'delivered') {
        deps.metrics?.notification('sent');
        continue;
      }
      const failed: Failed = s.failed!;
      const attemptNo = Number(s.row.attempts) + 1;
      const context = {
        notification: Number(s.row.id),
        subscription: s.row.subscription_id,
        type: s.row.type,
        attempt: attemptNo,
        failure: failed.failure,
        detail: failed.detail,
      };
      reason ??= failed.failure;
      if (s.state === 'dead') {
        dead += 1;
        deps.metrics?.notification('dead');
        log.warn(context, 'notification dead-lettered');
        continue;
      }
      deps.metrics?.notification('failed');
      const delayMs = retryDelayMs(attemptNo, settings);
      retryInMs = Math.min(retryInMs ?? delayMs, delayMs);
      log.info({ ...context, delayMs }, 'notification not delivered; will retry');
    }
    // Unsent rows go with the job's retry, even when every row that was tried is settled.
    if (unsent.length > 0) retryInMs ??= retryDelayMs(1, settings);
    if (retryInMs !== undefined) return { kind: 'retry', delayMs: retryInMs, reason: reason ?? 'network' };
    if (dead === settled.length && unsent.length === 0) {
      return { kind: 'give-up', reason: `gave up after ${settings.attempts} attempts: ${reason}` };
    }
    return { kind: 'done' };
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
