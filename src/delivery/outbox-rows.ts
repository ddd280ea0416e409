/**
 * The worker's reads and writes on the outbox. Every write names the job and the states it moves from, so a
 * stale or duplicated job (BullMQ is at-least-once) cannot undo what another attempt settled.
 */
import { appendAudit, receiptReceivedEntry } from '../audit/chain.ts';
import type { Receipt } from '../protocol/receipt.ts';
import type { DeliveryJob } from '../queue/jobs.ts';
import type { Store } from '../store/types.ts';

export interface OpenRow {
  id: string;
  attempts: number;
  /** The record's compact JWS exactly as signed and stored at publication. */
  jws: string;
}

/** The job's rows still to deliver, in outbox order. */
export async function openRowsOf(store: Store, job: DeliveryJob, jobId: string): Promise<OpenRow[]> {
  const rows = await store.query<{ id: string; attempts: number; jws: string }>(
    `SELECT o.id::text AS id, o.attempts, h.jws
       FROM outbox o JOIN home_record h ON h.seq = o.record_seq
      WHERE o.partner = $1 AND o.id BETWEEN $2 AND $3 AND o.job_id = $4 AND o.state IN ('pending', 'retrying')
      ORDER BY o.id`,
    [job.partner, job.firstId, job.lastId, jobId],
  );
  return rows.map((r) => ({ id: r.id, attempts: Number(r.attempts), jws: r.jws }));
}

const idsJson = (rows: readonly OpenRow[]) => JSON.stringify(rows.map((r) => r.id));

/** A failed attempt: the rows wait for the next one ('retrying') or are given up ('dead'). */
export async function markFailed(
  store: Store,
  jobId: string,
  rows: readonly OpenRow[],
  state: 'retrying' | 'dead',
  reason: string,
): Promise<void> {
  await store.query(
    `UPDATE outbox SET state = $3, attempts = attempts + 1, last_error = $4
      WHERE id IN (SELECT (jsonb_array_elements_text($1::jsonb))::bigint)
        AND job_id = $2 AND state IN ('pending', 'retrying')`,
    [idsJson(rows), jobId, state, reason.slice(0, 1_000)],
  );
}

export interface Settled {
  delivered: number;
  rejected: number;
}

/**
 * The receipt and what it says of each row, in one transaction: delivered (accepted, duplicate, superseded)
 * or dead with the partner's code (rejected). A receipt was verified before it gets here.
 */
export async function settleWithReceipt(
  store: Store,
  partner: string,
  jobId: string,
  rows: readonly OpenRow[],
  sent: { receipt: Receipt; receiptJws: string; delivered: readonly boolean[] },
): Promise<Settled> {
  const now = new Date().toISOString();
  const updates = rows.map((row, i) => {
    const result = sent.receipt.results[i]!;
    return sent.delivered[i]
      ? { id: row.id, state: 'delivered', outcome: result.outcome, error: null }
      : {
          id: row.id,
          state: 'dead',
          outcome: result.outcome,
          error: `${result.code ?? 'REJECTED'}: ${result.detail ?? 'rejected by the partner'}`.slice(
            0,
            1_000,
          ),
        };
  });
  await store.transaction(async (tx) => {
    // The receipt kept (once: a retried batch's receipt may arrive twice) and the rows settled, one statement.
    const kept = await tx.query(
      `WITH kept AS (
         INSERT INTO outbound_receipt (receipt_id, partner, received_at, receipt_jws) VALUES ($2, $5, $4, $6)
         ON CONFLICT (receipt_id) DO NOTHING RETURNING receipt_id),
       settled AS (
         UPDATE outbox o
            SET state = v.state, outcome = v.outcome, last_error = COALESCE(v.error, o.last_error),
                receipt_id = $2, attempts = o.attempts + 1,
                delivered_at = CASE WHEN v.state = 'delivered' THEN $4::timestamptz END
           FROM jsonb_to_recordset($1::jsonb) AS v(id bigint, state text, outcome text, error text)
          WHERE o.id = v.id AND o.job_id = $3 AND o.state IN ('pending', 'retrying'))
       SELECT receipt_id FROM kept`,
      [JSON.stringify(updates), sent.receipt.receiptId, jobId, now, partner, sent.receiptJws],
    );
    if (kept.length > 0)
      await appendAudit(tx, receiptReceivedEntry(partner, sent.receipt.receiptId, sent.receiptJws));
  });
  const delivered = updates.filter((u) => u.state === 'delivered').length;
  return { delivered, rejected: updates.length - delivered };
}
