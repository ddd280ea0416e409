/**
 * Redis connections, as BullMQ's going-to-production guide asks: the producer fails fast (no offline queue,
 * a bound on every command) so nothing the gateway does on behalf of a request waits on Redis, and the
 * workers' connection waits for as long as Redis is away (`maxRetriesPerRequest: null`) so a worker never
 * breaks on a reconnect. Both reconnect on their own, with a capped backoff.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { RedisSettings } from '../config/types.ts';
import { withTimeout } from './timeout.ts';

export type RedisRole = 'producer' | 'worker';

// Reconnect quickly at first, then every two seconds at most: a restarted Redis is back in use at once.
const retryStrategy = (times: number): number => Math.min(50 * 2 ** Math.min(times, 6), 2_000);

export function createRedis(settings: RedisSettings, role: RedisRole): Redis {
  const common: RedisOptions = {
    retryStrategy,
    connectTimeout: Math.max(settings.commandTimeoutMs, 1_000),
    // The prefix tells apart the gateways that share a Redis, in CLIENT LIST as in BullMQ's own names.
    connectionName: `mra-gateway-${role}:${settings.prefix}`,
    // BullMQ refuses ioredis key prefixes; queues carry `settings.prefix` themselves.
    keyPrefix: '',
  };
  const options: RedisOptions =
    role === 'producer'
      ? {
          ...common,
          enableOfflineQueue: false,
          commandTimeout: settings.commandTimeoutMs,
          maxRetriesPerRequest: 0,
        }
      : { ...common, maxRetriesPerRequest: null };
  const redis = new Redis(settings.url, options);
  // Without a listener ioredis reports every failed reconnect as an unhandled error event.
  redis.on('error', () => {});
  return redis;
}

/** Resolves true once `redis` is ready, false on its first connection failure or after `timeoutMs`. */
export function waitForReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onFailure);
      redis.off('end', onFailure);
      resolve(ready);
    };
    const onReady = () => done(true);
    const onFailure = () => done(false);
    const timer = setTimeout(onFailure, timeoutMs);
    redis.once('ready', onReady);
    redis.once('error', onFailure);
    redis.once('end', onFailure);
  });
}

/** True when Redis answers PING within `timeoutMs`. */
export async function pingRedis(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status !== 'ready') return false;
  try {
    return (await withTimeout(redis.ping(), timeoutMs, 'PING')) === 'PONG';
  } catch {
    return false;
  }
}

/** QUIT, bounded; a connection that does not answer is dropped. */
export async function closeRedis(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'end') return;
  try {
    if (redis.status === 'ready') await withTimeout(redis.quit(), timeoutMs, 'QUIT');
  } catch {
    // Dropped below.
  }
  redis.disconnect();
}
