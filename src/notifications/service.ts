/**
 * The notifications flow: events written with the inbound commit (record.ts), the relay moving them into the
 * notifications queue, and the worker signing and posting them. Redis only carries work: with Redis down the
 * rows wait in PostgreSQL and go out when it is back (THREATS.md 53).
 */
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.ts';
import type { Decision } from '../inbound/decide.ts';
import { openNotificationQueue } from '../queue/notification-queue.ts';
import type { Sql, Store } from '../store/types.ts';
import { createReceiverPolicy, type Resolver } from './receiver-policy.ts';
import { inboundEvents, recordMraStatus, writeNotifications } from './record.ts';
import { createNotificationRelay } from './relay.ts';
import { createSecretVault, sealStoredSecrets } from './secrets.ts';
import { createSender } from './send.ts';
import { createWebhookPoster } from './webhook-post.ts';

/** Webhook requests at once; order per operator is the relay's, so this only bounds parallel receivers. */
const CONCURRENCY = 8;

export interface Notifications {
  wake(): void;
  close(): Promise<void>;
}

/** For inbound's transaction: the batch's events, one row per matching subscription. */
export function notifyWithin(config: GatewayConfig) {
  return async (tx: Sql, decisions: readonly Decision[], at: Date): Promise<void> => {
    await writeNotifications(tx, await inboundEvents(tx, config, decisions, at), at);
  };
}

export async function startNotifications(deps: {
  config: GatewayConfig;
  store: Store;
  log: Logger;
  clock?: () => Date;
  /** How receivers' names are resolved; the system's resolver when absent. */
  resolve?: Resolver;
  /** Extra CA certificates (PEM) receivers are verified with; the system's CAs otherwise. */
  receiverCa?: string;
}): Promise<Notifications> {
  const { config, store } = deps;
  const log = deps.log.child({ component: 'notifications' });
  await sealStoredSecrets(store, config.notifications, log);
  const emitted = await recordMraStatus(store, config, (deps.clock ?? (() => new Date()))());
  if (emitted > 0) log.info({ events: emitted }, 'MRA status changes queued for notification');
  const settings = config.outbound;
  const queue = openNotificationQueue(config.redis, settings.attempts + 1, log);
  // As delivery does: a connection closed while its ready check runs rejects outside any caller.
  if (!(await queue.connect(config.redis.commandTimeoutMs))) {
    log.warn('Redis is not reachable; notifications wait in PostgreSQL until it is back');
  }
  const relay = createNotificationRelay(
    store,
    queue,
    log,
    2 * config.redis.commandTimeoutMs + 1_000,
    deps.clock,
  );
  const post = createWebhookPoster({
    policy: createReceiverPolicy(config.notifications, deps.resolve),
    timeoutMs: settings.requestTimeoutMs,
    ...(deps.receiverCa === undefined ? {} : { ca: deps.receiverCa }),
  });
  const vault = createSecretVault(config.notifications);
  const send = createSender({
    store,
    settings,
    log,
    post,
    vault,
    ...(deps.clock ? { clock: deps.clock } : {}),
  });
  queue.startWorker({
    handle: send,
    onSettled: () => relay.wake(),
    fallbackDelayMs: (attemptsMade) =>
      Math.min(settings.maxBackoffMs, settings.backoffMs * 2 ** attemptsMade),
    concurrency: CONCURRENCY,
  });
  queue.onReady(() => relay.wake());
  relay.start(settings.relayIntervalMs);

  let closing: Promise<void> | undefined;
  return {
    wake: () => relay.wake(),
    close() {
      closing ??= (async () => {
        await relay.stop();
        await queue.close(settings.requestTimeoutMs + 2 * config.redis.commandTimeoutMs);
      })();
      return closing;
    },
  };
}
