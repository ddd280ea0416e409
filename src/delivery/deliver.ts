/**
 * The delivery worker's step: one batch of a partner's outbox rows → `POST /mra/v1/records` → a verified
 * receipt kept as proof, and every row delivered or dead, in one transaction. The rows and their bytes come
 * from PostgreSQL, never from the job, so a retry sends byte-identical records (I4) and a job redelivered
 * after its rows were settled does nothing (docs/threats.md 59).
 */
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.ts';
import { createChainCache } from '../crypto/chain-cache.ts';
import type { GatewayMetrics } from '../metrics/metrics.ts';
import { createPartnerClient, type PartnerClient } from '../partner-client/client.ts';
import type { JobVerdict } from '../queue/job-kind.ts';
import type { DeliveryJob } from '../queue/jobs.ts';
import { retryDelayMs } from '../queue/retry.ts';
import { messageOf } from '../queue/timeout.ts';
import type { Store } from '../store/types.ts';
import { parseRetryAfter } from './backoff.ts';
import { markFailed, type OpenRow, openRowsOf, settleWithReceipt } from './outbox-rows.ts';

export interface Deliverer {
  handle(job: DeliveryJob, meta: { jobId: string }): Promise<JobVerdict>;
  close(): Promise<void>;
}

export interface DelivererDeps {
  config: GatewayConfig;
  store: Store;
  log: Logger;
  /** Partner clients by adminId; made from the configuration when absent. */
  clients?: ReadonlyMap<string, PartnerClient>;
  metrics?: GatewayMetrics;
  /**
   * Called once a batch's rows are settled (delivered or dead) and committed: the partner's next rows may go
   * now, while the queue is still finishing this job.
   */
  onRowsSettled?: (partner: string, jobId: string) => void;
  /**
   * Called once the partner's verified receipt for the job is in hand, before it is kept: the partner holds the
   * batch, so its next one cannot overtake it and may be claimed while this one's receipt is being kept. The
   * function returned is called when keeping it has ended, committed or not.
   */
  onAnswered?: (partner: string, jobId: string) => () => void;
}

/** How a failed attempt is handled: tried again later, or its rows are dead letters at once. */
type Failure = {
  retry: boolean;
  reason: string;
  retryAfterMs?: number | undefined;
  alert?: boolean;
  /** The partner's rate limit (429): this gateway's pace is above it. */
  limited?: boolean;
};

export function createDeliverer(deps: DelivererDeps): Deliverer {
  const { config, store, log } = deps;
  const home = config.home.adminId;
  const cache = createChainCache(64);
  const clients =
    deps.clients ??
    new Map(
      config.partners.map((p) => [
        p.adminId,
        createPartnerClient(home, p, {
          tls: config.server.tls,
          timeoutMs: config.outbound.requestTimeoutMs,
          cache,
        }),
      ]),
    );

  async function handle(job: DeliveryJob, { jobId }: { jobId: string }): Promise<JobVerdict> {
    const client = clients.get(job.partner);
    if (client === undefined) return { kind: 'give-up', reason: `no partner ${job.partner} is configured` };
    const rows = await openRowsOf(store, job, jobId);
    if (rows.length === 0) {
      log.debug({ partner: job.partner, jobId }, 'batch already settled; nothing to send');
      return { kind: 'done' };
    }
    const attempt = Math.max(...rows.map((r) => r.attempts)) + 1;
    let failure: Failure;
    const started = performance.now();
    deps.metrics?.deliveryAttempt(job.partner, rows.length);
    try {
      const sent = await client.sendRecords(rows.map((r) => r.jws));
      deps.metrics?.deliveryAnswered(job.partner, (performance.now() - started) / 1000);
      if (sent.ok) {
        const kept = deps.onAnswered?.(job.partner, jobId);
        let outcome: Awaited<ReturnType<typeof settleWithReceipt>>;
        try {
          outcome = await settleWithReceipt(store, job.partner, jobId, rows, sent);
        } finally {
          kept?.();
        }
        deps.onRowsSettled?.(job.partner, jobId);
        deps.metrics?.deliverySettled(job.partner, 'delivered', rows.length);
        log.info(
          { partner: job.partner, jobId, receiptId: sent.receipt.receiptId, ...outcome },
          'batch delivered',
        );
        return { kind: 'done' };
      }
      failure = classify(sent.status, sent.reason, sent.retryAfter);
    } catch (error) {
      // Connection refused or reset, TLS failure, timeout: the partner may have stored the batch or not; the
      // identical retry gets `duplicate` outcomes if it did (docs/threats.md 63).
      failure = { retry: true, reason: `no answer: ${messageOf(error)}` };
    }
    return fail(job, jobId, rows, attempt, failure);
  }

  async function fail(
    job: DeliveryJob,
    jobId: string,
    rows: readonly OpenRow[],
    attempt: number,
    failure: Failure,
  ): Promise<JobVerdict> {
    const context = { partner: job.partner, jobId, attempt, records: rows.length, reason: failure.reason };
    // A receipt that does not prove delivery is someone's fault: a broken partner, or an attack in between.
    if (failure.alert)
      log.error({ ...context, alert: 'receipt-invalid' }, 'partner receipt refused; batch not delivered');
    const lastAttempt = attempt >= config.outbound.attempts;
    if (!failure.retry || lastAttempt) {
      const reason = failure.retry ? `gave up after ${attempt} attempts: ${failure.reason}` : failure.reason;
      await markFailed(store, jobId, rows, 'dead', reason);
      deps.onRowsSettled?.(job.partner, jobId);
      deps.metrics?.deliverySettled(job.partner, 'dead', rows.length);
      log.warn({ ...context, reason }, 'batch dead-lettered');
      return { kind: 'give-up', reason };
    }
    await markFailed(store, jobId, rows, 'retrying', failure.reason);
    deps.metrics?.deliverySettled(job.partner, 'retried', rows.length);
    const delayMs = retryDelayMs(attempt, config.outbound, failure.retryAfterMs);
    if (failure.limited)
      log.warn(
        { ...context, delayMs },
        "partner's rate limit reached (429); batch will retry: lower outbound.requestsPerMinute below its limit",
      );
    else log.info({ ...context, delayMs }, 'batch not delivered; will retry');
    return { kind: 'retry', delayMs, reason: failure.reason };
  }

  return {
    handle,
    async close() {
      if (deps.clients === undefined) await Promise.all([...clients.values()].map((c) => c.close()));
    },
  };
}

/**
 * docs/threats.md 60–62: the partner's trouble (5xx), its limits (429, 408) and a 200 without a valid receipt are
 * retried; any other answer is the partner refusing this batch, which the same bytes would not change.
 */
function classify(status: number, reason: string, retryAfter: string | undefined): Failure {
  const detail = reason.replace(/\s+/g, ' ').slice(0, 300);
  if (status === 200) return { retry: true, reason: detail, alert: true };
  if (status >= 500 || status === 429 || status === 408) {
    return {
      retry: true,
      reason: `HTTP ${status}: ${detail}`,
      retryAfterMs: parseRetryAfter(retryAfter),
      limited: status === 429,
    };
  }
  return { retry: false, reason: `HTTP ${status}: ${detail}` };
}
