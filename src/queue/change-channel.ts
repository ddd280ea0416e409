/**
 * A Redis pub/sub channel that carries the read model's change events to every replica of the gateway.
 * Pub/sub keeps nothing: a replica that was disconnected misses what was published meanwhile, so every
 * (re)connection of the subscriber is reported and the caller reloads from PostgreSQL, its source of truth.
 * Publishing is fire-and-forget under the producer's command timeout: a commit never waits on Redis.
 */
import type { Logger } from 'pino';
import type { RedisSettings } from '../config/types.ts';
import { closeRedis, createRedis } from './connection.ts';
import { messageOf, withTimeout } from './timeout.ts';

export interface ChangeChannel {
  publish(message: string): void;
  close(): Promise<void>;
}

export interface ChangeChannelOptions {
  settings: RedisSettings;
  log: Logger;
  onMessage(message: string): void;
  /** Called when the subscription is (re)established: messages may have been missed before it. */
  onSubscribed(): void;
}

export function changeChannelName(prefix: string): string {
  return `${prefix}:lookup-changes`;
}

export function openChangeChannel(options: ChangeChannelOptions): ChangeChannel {
  const { settings, log } = options;
  const channel = changeChannelName(settings.prefix);
  const publisher = createRedis(settings, 'producer');
  const subscriber = createRedis(settings, 'worker');
  subscriber.on('message', (name: string, message: string) => {
    if (name === channel) options.onMessage(message);
  });
  // ioredis re-subscribes by itself on a reconnection; 'ready' comes first, so the resubscription is awaited
  // through our own SUBSCRIBE, which is idempotent.
  subscriber.on('ready', () => {
    subscriber.subscribe(channel).then(
      () => options.onSubscribed(),
      (error: unknown) => log.warn({ err: messageOf(error) }, 'lookup change subscription failed'),
    );
  });
  return {
    publish(message) {
      if (publisher.status !== 'ready') return;
      withTimeout(publisher.publish(channel, message), settings.commandTimeoutMs, 'PUBLISH').catch(
        (error: unknown) => log.warn({ err: messageOf(error) }, 'lookup change not published'),
      );
    },
    async close() {
      await Promise.all([
        closeRedis(publisher, settings.commandTimeoutMs),
        closeRedis(subscriber, settings.commandTimeoutMs),
      ]);
    },
  };
}
