/**
 * The notifications flow: events written with the inbound commit (record.ts), the relay moving them into the
 * notifications queue, and the worker signing and posting them. Redis only carries work: with Redis down the
 * rows wait in PostgreSQL and go out when it is back (docs/threats.md 53).
 */
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.ts';
import type { Verdict } from '../inbound/verdict.ts';
import type { GatewayMetrics } from '../metrics/metrics.ts';
import { claimGraceMs } from '../outbox-relay.ts';
import { NOTIFICATION_BATCH_JOBS, NOTIFICATIONS_KEY } from '../queue/jobs.ts';
import { retryPolicy } from '../queue/retry.ts';
import { type QueueRuntime, workerCloseGraceMs } from '../queue/runtime.ts';
import type { Sql, Store } from '../store/types.ts';
import { createReceiverPolicy, type Resolver } from './receiver-policy.ts';
import { inboundEvents, recordMraStatus, writeNotifications } from './record.ts';
import { createNotificationRelay } from './relay.ts';
import { createSecretVault, sealStoredSecrets } from './secrets.ts';
import { createSender } from './send.ts';
import { createWebhookSessions } from './webhook-post.ts';

/**
 * Jobs at once, each up to REQUESTS_PER_JOB requests to its receiver (send.ts); order per operator is the
 * relay's, so this only bounds parallel requests.
 */
const CONCURRENCY = 4;

export interface Notifications {
  /** A pass over the outbox: it asks whether any row is due. */
  wake(): void;
  /** Rows due at once were just committed: they are relayed without asking the outbox whether any are. */
  written(): void;
  close(): Promise<void>;
}

/**
 * For inbound's transaction: the batch's events, one row per matching subscription. What it returns runs once
 * the transaction has committed: the relay told of the rows due at once, when there are any.
 */
export function notifyWithin(config: GatewayConfig, notifications: Pick<Notifications, 'written'>) {
  return async (tx: Sql, verdicts: readonly Verdict[], at: Date): Promise<(() => void) | undefined> => {
    const due = await writeNotifications(tx, await inboundEvents(tx, config, verdicts, at), at);
    return due > 0 ? () => notifications.written() : undefined;
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
  /** The gateway's queue runtime; its owner closes it after this flow. */
  queues: QueueRuntime;
  metrics?: GatewayMetrics;
}): Promise<Notifications> {
  const { config, store } = deps;
  const log = deps.log.child({ component: 'notifications' });
  await sealStoredSecrets(store, config.notifications, log);
  const emitted = await recordMraStatus(store, config, (deps.clock ?? (() => new Date()))());
  if (emitted > 0) log.info({ events: emitted }, 'MRA status changes queued for notification');
  const settings = config.outbound;
  const queues = deps.queues;
  const retry = retryPolicy(settings.attempts + 1, settings);
  if (!(await queues.connect(config.redis.commandTimeoutMs))) {
    log.warn('Redis is not reachable; notifications wait in PostgreSQL until it is back');
  }
  const relay = createNotificationRelay({
    store,
    producer: queues.producer(NOTIFICATION_BATCH_JOBS, retry),
    usable: () => queues.connected(),
    log,
    claimGraceMs: claimGraceMs(config.redis.commandTimeoutMs),
    ...(deps.clock ? { clock: deps.clock } : {}),
  });
  const open = createWebhookSessions({
    policy: createReceiverPolicy(config.notifications, deps.resolve),
    timeoutMs: settings.requestTimeoutMs,
    ...(deps.receiverCa === undefined ? {} : { ca: deps.receiverCa }),
  });
  const vault = createSecretVault(config.notifications);
  const send = createSender({
    store,
    settings,
    log,
    open,
    vault,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
  const worker = queues.startWorker({
    kind: NOTIFICATION_BATCH_JOBS,
    key: NOTIFICATIONS_KEY,
    handle: send,
    retry,
    concurrency: CONCURRENCY,
    onSettled: () => relay.wake(),
    log,
  });
  queues.onReady(() => relay.wake());
  relay.start(settings.relayIntervalMs);

  let closing: Promise<void> | undefined;
  return {
    wake: () => relay.wake(),
    written: () => relay.wakeKeys([NOTIFICATIONS_KEY]),
    close() {
      closing ??= (async () => {
        await relay.stop();
        await worker.close(workerCloseGraceMs(config));
      })();
      return closing;
    },
  };
}
