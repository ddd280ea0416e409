/**
 * The gateway's use of Redis for jobs, in one place: the connections, the eviction-policy check, the queues of
 * every kind of job and their workers, and their shutdown in order (workers finish their job, then queues,
 * then connections: docs/threats.md 65).
 *
 * Connections: one producer connection, shared by every queue (BullMQ allows it: queue commands are not
 * blocking); each worker has one of its own and the blocking one BullMQ duplicates from it, both ended by the
 * worker's close, so that a worker closed by force past its grace can be cut off from Redis without touching
 * the others (worker.ts). With P partners (P delivery workers and the notifications worker) that is
 * 1 + 2 (P + 1) connections.
 */
import { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { GatewayConfig, RedisSettings } from '../config/types.ts';
import { GatewayError } from '../errors.ts';
import type { QueueDepth } from '../metrics/metrics.ts';
import { closeRedis, createRedis, pingRedis, waitForReady } from './connection.ts';
import { assertNoEviction } from './eviction.ts';
import type { JobKind } from './job-kind.ts';
import { createProducer, type JobProducer } from './producer.ts';
import type { RetryPolicy } from './retry.ts';
import { messageOf, withTimeout } from './timeout.ts';
import { type QueueWorker, startWorker, type WorkerSpec } from './worker.ts';

export interface QueueRuntime {
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
  producer<T>(kind: JobKind<T>, retry: RetryPolicy): JobProducer<T>;
  /** A worker on connections of its own; refused (QUEUE_UNAVAILABLE) once the close began. */
  startWorker<T>(spec: WorkerSpec<T>): QueueWorker;
  /** Job counts of every queue a producer or worker uses, for the metrics; none while Redis is away. */
  depths(): Promise<QueueDepth[]>;
  /** Every queue a producer or worker uses, for the queue view (board.ts). */
  queues(): Queue[];
  /** Closes the workers still open (each waits up to `graceMs`), the queues, then the producer connection. */
  close(graceMs: number): Promise<void>;
}

/** How long a closing worker may take to finish its job: one request in flight, and its bookkeeping. */
export function workerCloseGraceMs(config: Pick<GatewayConfig, 'outbound' | 'redis'>): number {
  return config.outbound.requestTimeoutMs + 2 * config.redis.commandTimeoutMs;
}

export function createQueueRuntime(settings: RedisSettings, log: Logger): QueueRuntime {
  const timeoutMs = settings.commandTimeoutMs;
  const producerRedis = createRedis(settings, 'producer');
  const queues = new Map<string, Queue>();
  const workers: QueueWorker[] = [];
  const used = new Set<string>();
  let up = false;
  let closing: Promise<void> | undefined;
  producerRedis.on('ready', () => {
    if (!up) log.info({ redis: redact(settings.url) }, 'Redis connected');
    up = true;
  });
  producerRedis.on('close', () => {
    if (up && closing === undefined)
      log.warn({ redis: redact(settings.url) }, 'Redis connection lost; reconnecting');
    up = false;
  });

  function queueOf(name: string): Queue {
    let queue = queues.get(name);
    if (queue === undefined) {
      queue = new Queue(name, { connection: producerRedis, prefix: settings.prefix });
      queue.on('error', (error) => log.warn({ queue: name, err: messageOf(error) }, 'queue error'));
      queues.set(name, queue);
    }
    return queue;
  }

  return {
    connect: (ms) => waitForReady(producerRedis, ms),
    checkPolicy: () => assertNoEviction(producerRedis, timeoutMs),
    connected: () => producerRedis.status === 'ready',
    ping: () => pingRedis(producerRedis, timeoutMs),
    onReady(listener) {
      producerRedis.on('ready', listener);
    },
    producer: (kind, retry) =>
      createProducer(
        kind,
        retry,
        (name) => {
          used.add(name);
          return queueOf(name);
        },
        timeoutMs,
      ),
    async depths() {
      if (producerRedis.status !== 'ready' || closing !== undefined) return [];
      const names = [...used].sort();
      const counts = await Promise.all(
        names.map((name) =>
          withTimeout(
            queueOf(name).getJobCounts('waiting', 'active', 'delayed', 'failed'),
            timeoutMs,
            'count jobs',
          ),
        ),
      );
      return names.map((queue, i) => {
        const c = counts[i] ?? {};
        return {
          queue,
          waiting: c.waiting ?? 0,
          active: c.active ?? 0,
          delayed: c.delayed ?? 0,
          failed: c.failed ?? 0,
        };
      });
    },
    queues: () => (closing === undefined ? [...used].sort().map(queueOf) : []),
    startWorker(spec) {
      // A worker started after the close began would not be closed by it.
      if (closing !== undefined) throw new GatewayError('QUEUE_UNAVAILABLE', 'the job queues are closing');
      used.add(spec.kind.queueName(spec.key));
      const worker = startWorker(spec, {
        redis: createRedis(settings, 'worker'),
        prefix: settings.prefix,
        commandTimeoutMs: timeoutMs,
      });
      workers.push(worker);
      return worker;
    },
    close(graceMs) {
      closing ??= (async () => {
        producerRedis.removeAllListeners('ready');
        await Promise.all(workers.map((w) => w.close(graceMs)));
        await Promise.all(
          [...queues.values()].map((q) => withTimeout(q.close(), timeoutMs, 'close queue').catch(() => {})),
        );
        queues.clear();
        await closeRedis(producerRedis, timeoutMs);
      })();
      return closing;
    },
  };
}

/** The URL without its password, for logs (docs/threats.md 69). */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'redis';
  }
}
