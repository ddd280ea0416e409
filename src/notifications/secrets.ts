/**
 * Webhook signing secrets at rest: sealed with the configured keys (src/crypto/secret-box.ts), each bound to
 * its subscription. A row whose key id is NULL holds its secret as issued (made before keys were configured,
 * migration 009); at start such rows, and rows sealed under a key that no longer seals, are sealed again under
 * the current one, so that after a key rotation the old key can be removed. Without keys the gateway creates
 * no subscription (WEBHOOK_KEY_MISSING) and signs with what the table holds, saying so in its log.
 */
import type { Logger } from 'pino';
import type { NotificationSettings } from '../config/types.ts';
import { createSecretBox, type SecretBox } from '../crypto/secret-box.ts';
import { GatewayError } from '../errors.ts';
import type { Store } from '../store/types.ts';

export interface StoredSecret {
  secret: string;
  keyId: string | null;
}

export interface SecretVault {
  /** Seals a new secret for a subscription; WEBHOOK_KEY_MISSING when no key is configured. */
  seal(subscriptionId: string, secret: string): StoredSecret;
  /** The secret as issued; INTERNAL when its key is not configured or the value does not open. */
  open(subscriptionId: string, stored: StoredSecret): string;
}

const context = (subscriptionId: string) => `webhook_subscription/${subscriptionId}`;

export function createSecretVault(settings: Pick<NotificationSettings, 'secretKeys'>): SecretVault {
  const box: SecretBox | undefined =
    settings.secretKeys.length > 0 ? createSecretBox(settings.secretKeys) : undefined;
  return {
    seal(subscriptionId, secret) {
      if (box === undefined) {
        throw new GatewayError(
          'WEBHOOK_KEY_MISSING',
          'webhook secrets cannot be stored: the gateway has no notifications.secretKeys configured',
        );
      }
      const sealed = box.seal(secret, context(subscriptionId));
      return { secret: sealed.data, keyId: sealed.keyId };
    },
    open(subscriptionId, stored) {
      if (stored.keyId === null) return stored.secret;
      if (box === undefined) {
        throw new GatewayError('INTERNAL', `secret sealed with key ${stored.keyId}; no key is configured`);
      }
      return box.open({ keyId: stored.keyId, data: stored.secret }, context(subscriptionId));
    },
  };
}

const BATCH = 200;

type SecretRow = {
  id: string;
  secret: string;
  secret_key_id: string | null;
  previous_secret: string | null;
  previous_secret_key_id: string | null;
};

/**
 * Seals, under the current key, every stored secret that is not sealed under it. Replicas starting together
 * skip each other's locked rows; a row whose key is gone is reported and left as it is. Returns the rows
 * sealed again.
 */
export async function sealStoredSecrets(
  store: Store,
  settings: Pick<NotificationSettings, 'secretKeys'>,
  log: Logger,
): Promise<number> {
  const sealingKey = settings.secretKeys[0]?.id;
  if (sealingKey === undefined) {
    const [row] = await store.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM webhook_subscription
        WHERE secret_key_id IS NULL OR (previous_secret IS NOT NULL AND previous_secret_key_id IS NULL)`,
    );
    if (Number(row?.n) > 0) {
      log.warn(
        { alert: 'webhook-secrets-unencrypted', subscriptions: Number(row?.n) },
        'webhook secrets are stored unencrypted; configure notifications.secretKeys to seal them',
      );
    }
    return 0;
  }
  const vault = createSecretVault(settings);
  let after = '00000000-0000-0000-0000-000000000000';
  let resealed = 0;
  // Bounded by the table: each pass moves `after` forward past every row it read.
  for (;;) {
    const batch = await store.transaction(async (tx) => {
      const rows = await tx.query<SecretRow>(
        `SELECT id::text, secret, secret_key_id, previous_secret, previous_secret_key_id
           FROM webhook_subscription
          WHERE id > $2::uuid
            AND (secret_key_id IS DISTINCT FROM $1
                 OR (previous_secret IS NOT NULL AND previous_secret_key_id IS DISTINCT FROM $1))
          ORDER BY id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
        [sealingKey, after],
      );
      let done = 0;
      for (const r of rows) {
        let current: StoredSecret;
        let previous: StoredSecret | null;
        try {
          current = vault.seal(r.id, vault.open(r.id, { secret: r.secret, keyId: r.secret_key_id }));
          previous =
            r.previous_secret === null
              ? null
              : vault.seal(
                  r.id,
                  vault.open(r.id, { secret: r.previous_secret, keyId: r.previous_secret_key_id }),
                );
        } catch (error) {
          log.error(
            { alert: 'webhook-secret-unreadable', subscription: r.id, err: (error as Error).message },
            'a webhook secret cannot be opened with the configured keys; its notifications cannot be signed',
          );
          continue;
        }
        await tx.query(
          `UPDATE webhook_subscription SET secret = $2, secret_key_id = $3, previous_secret = $4,
                  previous_secret_key_id = $5 WHERE id = $1`,
          [r.id, current.secret, current.keyId, previous?.secret ?? null, previous?.keyId ?? null],
        );
        done += 1;
      }
      return { read: rows.length, done, last: rows.at(-1)?.id };
    });
    resealed += batch.done;
    if (batch.last === undefined || batch.read < BATCH) break;
    after = batch.last;
  }
  if (resealed > 0)
    log.info({ subscriptions: resealed, key: sealingKey }, 'webhook secrets sealed under the current key');
  return resealed;
}
