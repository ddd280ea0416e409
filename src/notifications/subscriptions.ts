/**
 * Border systems' webhook subscriptions: each belongs to the API client that made it, which alone sees and
 * deletes it. The URL must pass the receiver policy (receiver-policy.ts) before anything is stored. The signing
 * secret is sealed at rest (secrets.ts) and returned once, at creation or rotation.
 */
import { randomUUID } from 'node:crypto';
import { adminAction, withAudit } from '../audit/chain.ts';
import type { NotificationSettings } from '../config/types.ts';
import { GatewayError } from '../errors.ts';
import type { Store } from '../store/types.ts';
import type { EventType } from './events.ts';
import { createReceiverPolicy, type ReceiverPolicy, type Resolver } from './receiver-policy.ts';
import { createSecretVault, type SecretVault } from './secrets.ts';
import { newSecret } from './signature.ts';

export interface Subscription {
  id: string;
  url: string;
  issuers: string[];
  events: EventType[];
  createdAt: string;
}

export const NOTIFICATION_STATES = ['pending', 'retrying', 'delivered', 'dead'] as const;
export type NotificationState = (typeof NOTIFICATION_STATES)[number];

export interface NotificationDelivery {
  id: number;
  eventId: string;
  type: string;
  issuer: string;
  aeoId: string | null;
  version: number | null;
  state: NotificationState;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

export interface RotatedSecret {
  id: string;
  secret: string;
  /** Until when the previous secret still signs next to this one; null when there is none. */
  previousSecretUntil: string | null;
}

export interface Subscriptions {
  create(
    client: string,
    input: { url: string; issuers?: string[]; events?: EventType[] },
  ): Promise<Subscription & { secret: string }>;
  /** A new secret; the current one keeps signing alongside for the configured overlap. */
  rotateSecret(client: string, id: string): Promise<RotatedSecret | undefined>;
  /** Ends the overlap at once (the subscriber verifies with the new secret). False: no such subscription. */
  dropPreviousSecret(client: string, id: string): Promise<boolean>;
  list(client: string): Promise<Subscription[]>;
  /** False when the client has no such subscription. */
  remove(client: string, id: string): Promise<boolean>;
  /** Undefined when the client has no such subscription. */
  deliveries(
    client: string,
    id: string,
    state?: NotificationState,
    limit?: number,
  ): Promise<NotificationDelivery[] | undefined>;
  /**
   * Sends dead letters of a subscription again (all of them, or those of `ids`): attempts start from zero.
   * Undefined when the client has no such subscription; the ids moved back to pending otherwise.
   */
  replay(client: string, id: string, ids?: readonly number[]): Promise<number[] | undefined>;
}

/** The receiver policy's verdict as the API answers it: 400 with the rule that refused the URL. */
export async function checkWebhookUrl(policy: ReceiverPolicy, text: string): Promise<string> {
  const checked = await policy.check(text);
  if (checked.ok) return checked.receiver.url.toString();
  throw new GatewayError(checked.reason === 'invalid' ? 'BODY_INVALID' : 'RECEIVER_REFUSED', checked.detail);
}

type Row = { id: string; url: string; issuers: string[]; events: EventType[]; created_at: Date };
const subscriptionOf = (r: Row): Subscription => ({
  id: r.id,
  url: r.url,
  issuers: r.issuers,
  events: r.events,
  createdAt: new Date(r.created_at).toISOString(),
});

export interface SubscriptionsDeps {
  store: Store;
  settings: NotificationSettings;
  clock?: (() => Date) | undefined;
  /** Wakes the notification relay, so replayed rows leave at once rather than at its next tick. */
  onReplayed?: (() => void) | undefined;
  /** How receivers' names are resolved; the system's resolver when absent. */
  resolve?: Resolver | undefined;
}

export function createSubscriptions(deps: SubscriptionsDeps): Subscriptions {
  const { store, settings } = deps;
  const clock = deps.clock ?? (() => new Date());
  const onReplayed = deps.onReplayed ?? (() => {});
  const policy = createReceiverPolicy(settings, deps.resolve);
  const vault: SecretVault = createSecretVault(settings);
  const owns = async (client: string, id: string) =>
    (await store.query('SELECT 1 FROM webhook_subscription WHERE id = $1 AND api_client = $2', [id, client]))
      .length > 0;
  return {
    async create(client, input) {
      const url = await checkWebhookUrl(policy, input.url);
      const id = randomUUID();
      const secret = newSecret();
      const sealed = vault.seal(id, secret);
      const [row] = await withAudit(
        store,
        (tx) =>
          tx.query<Row>(
            `INSERT INTO webhook_subscription (id, api_client, url, issuers, events, secret, secret_key_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id::text, url, issuers, events, created_at`,
            [
              id,
              client,
              url,
              input.issuers ?? [],
              input.events ?? [],
              sealed.secret,
              sealed.keyId,
              clock().toISOString(),
            ],
          ),
        // The address may carry the receiver's own credentials: the chain keeps what was subscribed to.
        () =>
          adminAction(client, id, {
            action: 'subscription-create',
            issuers: input.issuers ?? [],
            events: input.events ?? [],
          }),
      );
      return { ...subscriptionOf(row!), secret };
    },
    async rotateSecret(client, id) {
      const secret = newSecret();
      const sealed = vault.seal(id, secret);
      const now = clock();
      // The secret that signed until now keeps signing through the overlap, so receivers move at their pace.
      const [row] = await withAudit(
        store,
        (tx) =>
          tx.query<{ until: Date | null }>(
            `UPDATE webhook_subscription
            SET previous_secret = secret, previous_secret_key_id = secret_key_id,
                previous_secret_until = $5::timestamptz + make_interval(secs => $6::double precision / 1000),
                secret = $3, secret_key_id = $4
          WHERE id = $1 AND api_client = $2
          RETURNING CASE WHEN $6::bigint > 0 THEN previous_secret_until END AS until`,
            [id, client, sealed.secret, sealed.keyId, now.toISOString(), settings.secretOverlapMs],
          ),
        (rows) =>
          rows.length === 0 ? undefined : adminAction(client, id, { action: 'subscription-rotate-secret' }),
      );
      if (row === undefined) return undefined;
      return {
        id,
        secret,
        previousSecretUntil: row.until === null ? null : new Date(row.until).toISOString(),
      };
    },
    async dropPreviousSecret(client, id) {
      const rows = await withAudit(
        store,
        (tx) =>
          tx.query(
            `UPDATE webhook_subscription
            SET previous_secret = NULL, previous_secret_key_id = NULL, previous_secret_until = NULL
          WHERE id = $1 AND api_client = $2 RETURNING id`,
            [id, client],
          ),
        (r) =>
          r.length === 0
            ? undefined
            : adminAction(client, id, { action: 'subscription-drop-previous-secret' }),
      );
      return rows.length > 0;
    },
    async list(client) {
      const rows = await store.query<Row>(
        `SELECT id::text, url, issuers, events, created_at FROM webhook_subscription
          WHERE api_client = $1 ORDER BY created_at, id`,
        [client],
      );
      return rows.map(subscriptionOf);
    },
    async remove(client, id) {
      const rows = await withAudit(
        store,
        (tx) =>
          tx.query('DELETE FROM webhook_subscription WHERE id = $1 AND api_client = $2 RETURNING id', [
            id,
            client,
          ]),
        (r) => (r.length === 0 ? undefined : adminAction(client, id, { action: 'subscription-delete' })),
      );
      return rows.length > 0;
    },
    async deliveries(client, id, state, limit = 100) {
      if (!(await owns(client, id))) return undefined;
      const rows = await store.query<{
        id: string;
        event_id: string;
        type: string;
        issuer: string;
        aeo_id: string | null;
        version: string | null;
        state: NotificationState;
        attempts: number;
        last_error: string | null;
        created_at: Date;
        delivered_at: Date | null;
      }>(
        `SELECT id::text, event_id::text, type, issuer, aeo_id, version::text, state, attempts, last_error,
                created_at, delivered_at
           FROM notification WHERE subscription_id = $1 AND ($2::text IS NULL OR state = $2)
          ORDER BY notification.id LIMIT $3`,
        [id, state ?? null, limit],
      );
      return rows.map((r) => ({
        id: Number(r.id),
        eventId: r.event_id,
        type: r.type,
        issuer: r.issuer,
        aeoId: r.aeo_id,
        version: r.version === null ? null : Number(r.version),
        state: r.state,
        attempts: Number(r.attempts),
        lastError: r.last_error,
        createdAt: new Date(r.created_at).toISOString(),
        deliveredAt: r.delivered_at === null ? null : new Date(r.delivered_at).toISOString(),
      }));
    },
    async replay(client, id, ids) {
      if (!(await owns(client, id))) return undefined;
      // The state test makes a replay happen once: a second one finds the rows pending or delivered. A row
      // replayed behind newer events of the same operator goes out after them; its version says it is older.
      const rows = await withAudit(
        store,
        (tx) =>
          tx.query<{ id: string }>(
            `UPDATE notification SET state = 'pending', attempts = 0, enqueued_at = NULL, job_id = NULL
          WHERE subscription_id = $1 AND state = 'dead'
            AND ($2::jsonb IS NULL OR id IN (SELECT (jsonb_array_elements_text($2::jsonb))::bigint))
          RETURNING id::text`,
            [id, ids === undefined ? null : JSON.stringify(ids.map(String))],
          ),
        (r) =>
          r.length === 0
            ? undefined
            : adminAction(client, id, {
                action: 'webhook-replay',
                notifications: r.map((x) => Number(x.id)).sort((a, b) => a - b),
              }),
      );
      const replayed = rows.map((r) => Number(r.id)).sort((x, y) => x - y);
      if (replayed.length > 0) onReplayed();
      return replayed;
    },
  };
}
