/**
 * Webhook dead letters as the gateway's operators see them, across every subscription (the API shows a client
 * its own only, src/notifications/subscriptions.ts): listed, and sent again. A replay moves dead rows back to
 * pending once, chained in the audit trail with the rows it moved; rows no longer dead (replayed already,
 * delivered) are left alone, so nothing already delivered is sent twice.
 */
import { adminAction, GATEWAY_ACTOR, withAudit } from '../audit/chain.ts';
import type { Store } from '../store/types.ts';

export interface DeadNotification {
  id: number;
  subscriptionId: string;
  apiClient: string;
  url: string;
  eventId: string;
  type: string;
  issuer: string;
  aeoId: string | null;
  attempts: number;
  lastError: string | null;
  createdAt: string;
}

export interface DeadNotificationFilter {
  subscriptionId?: string | undefined;
  /** Only events about this issuer (a partner's adminId, or home). */
  issuer?: string | undefined;
  limit: number;
}

export interface NotificationReplaySelection {
  ids?: readonly number[] | undefined;
  subscriptionId?: string | undefined;
  issuer?: string | undefined;
  /** Who asked, as the audit trail names them. */
  actor?: string | undefined;
}

export async function listDeadNotifications(
  store: Store,
  filter: DeadNotificationFilter,
): Promise<DeadNotification[]> {
  const rows = await store.query<{
    id: string;
    subscription_id: string;
    api_client: string;
    url: string;
    event_id: string;
    type: string;
    issuer: string;
    aeo_id: string | null;
    attempts: number;
    last_error: string | null;
    created_at: Date;
  }>(
    `SELECT n.id::text, n.subscription_id::text, s.api_client, s.url, n.event_id::text, n.type, n.issuer, n.aeo_id,
            n.attempts, n.last_error, n.created_at
       FROM notification n JOIN webhook_subscription s ON s.id = n.subscription_id
      WHERE n.state = 'dead' AND ($1::uuid IS NULL OR n.subscription_id = $1::uuid)
        AND ($2::text IS NULL OR n.issuer = $2)
      ORDER BY n.id LIMIT $3`,
    [filter.subscriptionId ?? null, filter.issuer ?? null, filter.limit],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    subscriptionId: r.subscription_id,
    apiClient: r.api_client,
    // The address may carry the receiver's credentials in its user part or query: shown without them.
    url: withoutCredentials(r.url),
    eventId: r.event_id,
    type: r.type,
    issuer: r.issuer,
    aeoId: r.aeo_id,
    attempts: Number(r.attempts),
    lastError: r.last_error,
    createdAt: new Date(r.created_at).toISOString(),
  }));
}

/** Dead notifications of the selection back to pending, each once; the ids moved, ascending. */
export async function replayDeadNotifications(
  store: Store,
  selection: NotificationReplaySelection,
): Promise<number[]> {
  const rows = await withAudit(
    store,
    (tx) =>
      tx.query<{ id: string; subscription_id: string }>(
        `UPDATE notification SET state = 'pending', attempts = 0, enqueued_at = NULL, job_id = NULL
          WHERE state = 'dead' AND ($1::uuid IS NULL OR subscription_id = $1::uuid)
            AND ($2::text IS NULL OR issuer = $2)
            AND ($3::jsonb IS NULL OR id IN (SELECT (jsonb_array_elements_text($3::jsonb))::bigint))
          RETURNING id::text, subscription_id::text`,
        [
          selection.subscriptionId ?? null,
          selection.issuer ?? null,
          selection.ids === undefined ? null : JSON.stringify(selection.ids.map(String)),
        ],
      ),
    (r) =>
      r.length === 0
        ? undefined
        : adminAction(selection.actor ?? GATEWAY_ACTOR, selection.subscriptionId ?? 'all-subscriptions', {
            action: 'webhook-replay',
            subscriptions: [...new Set(r.map((x) => x.subscription_id))].sort(),
            notifications: r.map((x) => Number(x.id)).sort((a, b) => a - b),
          }),
  );
  return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
}

function withoutCredentials(text: string): string {
  try {
    const url = new URL(text);
    url.username = '';
    url.password = '';
    url.search = '';
    return url.toString();
  } catch {
    return '(unreadable address)';
  }
}
