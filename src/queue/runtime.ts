/**
 * The gateway's use of Redis in one place: the two connections, the eviction-policy check, the delivery
 * producer and workers, and their shutdown in order (workers finish their job, then queues, then
 * connections: THREATS.md 65).
 */
import type { Logger } from 'pino';
import type { RedisSettings } from '../config/types.ts';
import { closeRedis, createRedis, pingRedis, waitForReady } from './connection.ts';
import { assertNoEviction } from './eviction.ts';
import { createDeliveryProducer, type DeliveryProducer } from './producer.ts';
import { type DeliveryHandler, type DeliveryWorker, startDeliveryWorker } from './worker.ts';

export interface QueueRuntime {
  readonly delivery: DeliveryProducer;
  /** Waits for the first connection, at most `timeoutMs`; false when Redis is not reachable. */
  connect(timeoutMs: number): Promise<boolean>;
  /** Throws a QUEUE_EVICTION_POLICY GatewayError unless Redis runs with `noeviction`. */
  checkPolicy(): Promise<void>;
  /** True while the producer connection is up. */
  connected(): boolean;
  /** True when Redis answers a PING in time. */
  ping(): Promise<boolean>;
  /** Called on every (re)connection, after the first. */
  onReady(listener: () => void): void;
  startDeliveryWorker(
    partner: string,
    handle: DeliveryHandler,
    onSettled: () => void,
    fallbackDelayMs: (attemptsMade: number) => number,
  ): void;
  close(): Promise<void>;
}

export interface QueueRuntimeOptions {
  log: Logger;
  /** BullMQ's bound on attempts per delivery job. */
  attempts: number;
  /** How long a closing worker may take to finish its job (a partner request in flight). */
  closeGraceMs: number;
}

export function createQueueRuntime(settings: RedisSettings, options: QueueRuntimeOptions): QueueRuntime {
  const { log } = options;
  const timeoutMs = settings.commandTimeoutMs;
  const producer = createRedis(settings, 'producer');
  const workerRedis = createRedis(settings, 'worker');
  const workers: DeliveryWorker[] = [];
  const delivery = createDeliveryProducer({
    redis: producer,
    prefix: settings.prefix,
    timeoutMs,
    attempts: options.attempts,
    log,
  });
  let up = false;
  let closing = false;
  producer.on('ready', () => {
    if (!up) log.info({ redis: redact(settings.url) }, 'Redis connected');
    up = true;
  });
  producer.on('close', () => {
    if (up && !closing) log.warn({ redis: redact(settings.url) }, 'Redis connection lost; reconnecting');
    up = false;
  });

  return {
    delivery,
    connect: (ms) => waitForReady(producer, ms),
    checkPolicy: () => assertNoEviction(producer, timeoutMs),
    connected: () => producer.status === 'ready',
    ping: () => pingRedis(producer, timeoutMs),
    onReady(listener) {
      producer.on('ready', listener);
    },
    startDeliveryWorker(partner, handle, onSettled, fallbackDelayMs) {
      workers.push(
        startDeliveryWorker({
          redis: workerRedis,
          prefix: settings.prefix,
          partner,
          handle,
          onSettled,
          fallbackDelayMs,
          log,
        }),
      );
    },
    async close() {
      closing = true;
      producer.removeAllListeners('ready');
      await Promise.all(workers.map((w) => w.close(options.closeGraceMs)));
      await delivery.close();
      await Promise.all([closeRedis(producer, timeoutMs), closeRedis(workerRedis, timeoutMs)]);
    },
  };
}

/** The URL without its password, for logs (THREATS.md 69). */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'redis';
  }
}
