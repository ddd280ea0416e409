/**
 * Pushing issued summaries to the partner they are about (`POST <endpoint>/monitoring`), through the partner
 * client that delivers records: mutual TLS with the home certificate, bounded exchange, and the same proof of
 * delivery (a receipt signed by the partner, naming both sides, one result per summary with its digest). The
 * verified receipt is kept with the summary.
 *
 * Summaries are a handful a month per partner, so they need no queue: their push state lives in their own
 * row (attempts, next attempt, last error), and a sweep pushes whatever is due, oldest first. A failed push
 * (no answer, an error status, a receipt that proves nothing) is tried again with the delivery backoff, with
 * no last attempt: a summary is the only evidence of its period, so it is never given up. A summary the
 * partner rejected is not pushed again; its code stays with it.
 */
import type { Logger } from 'pino';
import { appendAudit, summaryReceiptReceivedEntry } from '../../audit/chain.ts';
import type { GatewayConfig } from '../../config/types.ts';
import type { ChainCache } from '../../crypto/chain-cache.ts';
import { parseRetryAfter } from '../../delivery/backoff.ts';
import type { Partner } from '../../mra/types.ts';
import { createPartnerClient, type PartnerClient } from '../../partner-client/client.ts';
import { DELIVERED_OUTCOMES } from '../../partner-client/receipt-check.ts';
import { retryDelayMs } from '../../queue/retry.ts';
import type { Store } from '../../store/types.ts';
import { MAX_SUMMARY_BATCH } from './receive.ts';

export interface PushReport {
  partner: string;
  sent: number;
  delivered: number;
  rejected: number;
  error: string | null;
}

export interface SummaryPusher {
  /**
   * Pushes what is due for one partner now (all undelivered ones when `force`), one run per partner at a time;
   * what committed before the call is in the run the caller gets.
   */
  push(partner: Partner, options?: { force?: boolean }): Promise<PushReport>;
  pushDue(): Promise<PushReport[]>;
  close(): Promise<void>;
}

export interface PushDeps {
  config: GatewayConfig;
  store: Store;
  log: Logger;
  clock: () => Date;
  cache: ChainCache;
}

/** A problem detail is for people; a hostile partner's must not fill the store. */
const MAX_ERROR = 300;

export function createSummaryPusher(deps: PushDeps): SummaryPusher {
  const clients = new Map<string, PartnerClient>();
  const running = new Map<string, Promise<PushReport>>();
  const queued = new Map<string, Promise<PushReport>>();
  const home = deps.config.home.adminId;
  const tls = deps.config.server.tls;

  function clientFor(partner: Partner): PartnerClient {
    let client = clients.get(partner.adminId);
    if (client === undefined) {
      client = createPartnerClient(home, partner, {
        ...(tls ? { tls: { certificatePem: tls.certificatePem, keyPem: tls.keyPem } } : {}),
        timeoutMs: deps.config.outbound.requestTimeoutMs,
        cache: deps.cache,
      });
      clients.set(partner.adminId, client);
    }
    return client;
  }

  async function pushOnce(partner: Partner, force: boolean): Promise<PushReport> {
    const report: PushReport = { partner: partner.adminId, sent: 0, delivered: 0, rejected: 0, error: null };
    const now = deps.clock();
    const rows = await deps.store.query<{ seq: string; jws: string; attempts: number }>(
      `SELECT seq::text, jws, attempts FROM monitoring_summary_out
        WHERE subject = $1 AND delivered_at IS NULL AND rejected_code IS NULL
          AND ($2 OR next_attempt_at IS NULL OR next_attempt_at <= $3)
        ORDER BY seq LIMIT $4`,
      [partner.adminId, force, now.toISOString(), MAX_SUMMARY_BATCH],
    );
    if (rows.length === 0) return report;
    report.sent = rows.length;
    const seqs = rows.map((r) => r.seq);
    let failure: { reason: string; retryAfter: string | undefined };
    try {
      const sent = await clientFor(partner).sendSummaries(rows.map((r) => r.jws));
      if (sent.ok) {
        const at = deps.clock().toISOString();
        const { receipt, receiptJws } = sent;
        // The partner's receipt is evidence like those of records: chained with the rows that keep it.
        await deps.store.transaction(async (tx) => {
          for (const [i, result] of receipt.results.entries()) {
            const delivered = DELIVERED_OUTCOMES.has(result.outcome);
            await tx.query(
              `UPDATE monitoring_summary_out SET attempts = attempts + 1, receipt_id = $2, receipt_jws = $3,
                 delivered_at = CASE WHEN $4 THEN $5::timestamptz END, rejected_code = $6, last_error = $7,
                 next_attempt_at = NULL
               WHERE seq = $1::bigint`,
              [
                seqs[i],
                receipt.receiptId,
                receiptJws,
                delivered,
                at,
                delivered ? null : (result.code ?? 'REJECTED'),
                delivered ? null : clip(`${result.code}: ${result.detail ?? ''}`),
              ],
            );
          }
          await appendAudit(
            tx,
            summaryReceiptReceivedEntry(
              partner.adminId,
              receipt.receiptId,
              receiptJws,
              receipt.results.length,
            ),
          );
        });
        for (const result of receipt.results) {
          if (DELIVERED_OUTCOMES.has(result.outcome)) report.delivered += 1;
          else report.rejected += 1;
        }
        if (report.rejected > 0) {
          deps.log.warn(
            { partner: partner.adminId, rejected: report.rejected },
            'monitoring summaries rejected',
          );
        }
        return report;
      }
      failure = { reason: `HTTP ${sent.status}: ${sent.reason}`, retryAfter: sent.retryAfter };
    } catch (error) {
      const e = error as { code?: unknown; message?: unknown };
      failure = {
        reason: `${String(e.code ?? 'ERROR')}: ${String(e.message ?? error)}`,
        retryAfter: undefined,
      };
    }
    report.error = clip(failure.reason);
    const attempts = Math.max(...rows.map((r) => r.attempts)) + 1;
    const delay = retryDelayMs(attempts, deps.config.outbound, parseRetryAfter(failure.retryAfter, now));
    await deps.store.query(
      `UPDATE monitoring_summary_out SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3
        WHERE seq IN (SELECT k::bigint FROM jsonb_array_elements_text($1::jsonb) AS k)`,
      [JSON.stringify(seqs), report.error, new Date(deps.clock().getTime() + delay).toISOString()],
    );
    deps.log.warn(
      { partner: partner.adminId, error: report.error, retryInMs: delay },
      'monitoring summary push failed',
    );
    return report;
  }

  const pusher: SummaryPusher = {
    push(partner, options = {}) {
      const id = partner.adminId;
      const inFlight = running.get(id);
      if (inFlight === undefined) {
        const started = pushOnce(partner, options.force ?? false).finally(() => running.delete(id));
        running.set(id, started);
        return started;
      }
      // The push under way chose its summaries before the caller's committed: one more follows it, shared
      // by every caller meanwhile, so a caller always gets a push that saw what it committed.
      let next = queued.get(id);
      if (next === undefined) {
        next = inFlight
          .catch(() => undefined)
          .then(() => {
            queued.delete(id);
            return pusher.push(partner, options);
          });
        queued.set(id, next);
      }
      return next;
    },
    pushDue: () => Promise.all(deps.config.partners.map((p) => pusher.push(p))),
    async close() {
      await Promise.allSettled([...queued.values(), ...running.values()]);
      await Promise.all([...clients.values()].map((c) => c.close()));
      clients.clear();
    },
  };
  return pusher;
}

function clip(text: string): string {
  return text.length > MAX_ERROR ? `${text.slice(0, MAX_ERROR)}…` : text;
}
