/**
 * Delivery status for the home administration: where each record stands with each
 * partner, the dead letters, and their replay. Reads and writes PostgreSQL only, so the API answers whatever
 * state Redis is in.
 */
import { adminAction, GATEWAY_ACTOR, withAudit } from '../audit/chain.ts';
import type { Store } from '../store/types.ts';

export const DELIVERY_STATES = ['pending', 'retrying', 'delivered', 'dead'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

export interface DeliveryView {
  id: number;
  partner: string;
  recordId: string;
  aeoId: string;
  version: number;
  state: DeliveryState;
  attempts: number;
  lastError: string | null;
  /** The partner's outcome: accepted, duplicate, superseded (delivered) or rejected (dead). */
  outcome: string | null;
  /** The receipt that proves delivery (or the rejection), kept in outbound_receipt. */
  receiptId: string | null;
  deliveredAt: string | null;
  enqueuedAt: string | null;
  createdAt: string;
}

export interface DeliveryFilter {
  state?: DeliveryState | undefined;
  partner?: string | undefined;
  /** Only deliveries with an id above this one (paging). */
  after?: number | undefined;
  limit: number;
}

export interface ReplaySelection {
  partner?: string | undefined;
  ids?: readonly number[] | undefined;
  /** The API client that asked, chained with the rows it replayed (src/audit/chain.ts). */
  actor?: string | undefined;
}

export interface DeliveryStatus {
  /** Undefined when the home administration published no such record. */
  forRecord(recordId: string): Promise<DeliveryView[] | undefined>;
  list(filter: DeliveryFilter): Promise<{ deliveries: DeliveryView[]; next: number | null }>;
  /** Dead rows of the selection back to pending, each once: rows no longer dead are left alone. */
  replay(selection: ReplaySelection): Promise<{ replayed: number[] }>;
}

interface Row {
  id: string;
  partner: string;
  record_id: string;
  aeo_id: string;
  version: string;
  state: DeliveryState;
  attempts: number;
  last_error: string | null;
  outcome: string | null;
  receipt_id: string | null;
  delivered_at: string | null;
  enqueued_at: string | null;
  created_at: string;
}

const SELECT = `SELECT o.id::text, o.partner, h.record_id::text, h.aeo_id, h.version::text, o.state, o.attempts,
       o.last_error, o.outcome, o.receipt_id::text,
       to_char(o.delivered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS delivered_at,
       to_char(o.enqueued_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS enqueued_at,
       to_char(o.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at
  FROM outbox o JOIN home_record h ON h.seq = o.record_seq`;

const viewOf = (r: Row): DeliveryView => ({
  id: Number(r.id),
  partner: r.partner,
  recordId: r.record_id,
  aeoId: r.aeo_id,
  version: Number(r.version),
  state: r.state,
  attempts: Number(r.attempts),
  lastError: r.last_error,
  outcome: r.outcome,
  receiptId: r.receipt_id,
  deliveredAt: r.delivered_at,
  enqueuedAt: r.enqueued_at,
  createdAt: r.created_at,
});

/** `onReplayed` wakes the relay so replayed rows leave at once. */
export function createDeliveryStatus(store: Store, onReplayed: () => void = () => {}): DeliveryStatus {
  return {
    async forRecord(recordId) {
      const known = await store.query('SELECT 1 FROM home_record WHERE record_id = $1', [recordId]);
      if (known.length === 0) return undefined;
      const rows = await store.query<Row>(`${SELECT} WHERE h.record_id = $1 ORDER BY o.partner`, [recordId]);
      return rows.map(viewOf);
    },
    async list(filter) {
      const rows = await store.query<Row>(
        `${SELECT}
          WHERE ($1::text IS NULL OR o.state = $1) AND ($2::text IS NULL OR o.partner = $2) AND o.id > $3
          ORDER BY o.id LIMIT $4`,
        [filter.state ?? null, filter.partner ?? null, filter.after ?? 0, filter.limit + 1],
      );
      const page = rows.slice(0, filter.limit).map(viewOf);
      return { deliveries: page, next: rows.length > filter.limit ? page[page.length - 1]!.id : null };
    },
    async replay(selection) {
      // The state test in the WHERE makes a replay happen once: a second one finds the rows pending (or
      // delivered) and changes nothing; concurrent replays serialise on the row locks.
      const rows = await withAudit(
        store,
        (tx) =>
          tx.query<{ id: string }>(
            `UPDATE outbox SET state = 'pending', enqueued_at = NULL, job_id = NULL, attempts = 0
              WHERE state = 'dead' AND ($1::text IS NULL OR partner = $1)
                AND ($2::jsonb IS NULL OR id IN (SELECT (jsonb_array_elements_text($2::jsonb))::bigint))
                -- A record whose text retention removed can no longer be sent as signed.
                AND NOT EXISTS (SELECT 1 FROM home_record h WHERE h.seq = outbox.record_seq AND h.jws IS NULL)
              RETURNING id::text`,
            [
              selection.partner ?? null,
              selection.ids === undefined ? null : JSON.stringify(selection.ids.map(String)),
            ],
          ),
        (r) =>
          r.length === 0
            ? undefined
            : adminAction(selection.actor ?? GATEWAY_ACTOR, selection.partner ?? 'all-partners', {
                action: 'delivery-replay',
                partner: selection.partner ?? null,
                outbox: r.map((x) => Number(x.id)).sort((a, b) => a - b),
              }),
      );
      const replayed = rows.map((r) => Number(r.id)).sort((a, b) => a - b);
      if (replayed.length > 0) onReplayed();
      return { replayed };
    },
  };
}
