/**
 * Every Redis connection of a gateway is owned by its queue runtime (or the lookup change channel) and closed
 * on shutdown: delivery and notifications share one producer connection, and each worker has one connection of
 * its own and the one blocking connection BullMQ adds (docs/threats.md 65: nothing is left behind a close).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeRedis, createRedis } from '../../src/queue/connection.ts';
import { type Exchange, makeExchange, waitFor } from '../support/delivery.ts';

describe('Redis connections of a gateway', () => {
  let ex: Exchange;
  let admin: ReturnType<typeof createRedis>;

  beforeAll(async () => {
    ex = await makeExchange(['PE', 'CL', 'JP']);
    // Named apart from the gateway's own connections.
    admin = createRedis({ ...ex.admins.get('PE').config.redis, prefix: 'connection-probe' }, 'worker');
  });
  afterAll(async () => {
    await closeRedis(admin, 2_000);
    await ex?.close();
  });

  /** Names of the connections of PE's gateway: its own, and the blocking ones BullMQ names by the prefix. */
  async function namesOfPe(): Promise<string[]> {
    const prefix = ex.admins.get('PE').config.redis.prefix;
    const list = String(await admin.client('LIST'));
    return list
      .split('\n')
      .map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '')
      .filter((name) => name.endsWith(`:${prefix}`) || name.startsWith(`${prefix}:`))
      .sort();
  }

  it('opens one producer connection for both flows, two per worker, and closes all', async () => {
    const prefix = ex.admins.get('PE').config.redis.prefix;
    expect(await namesOfPe()).toEqual([]);
    await ex.start('PE');
    // Two partners: two delivery workers and the notifications worker, each with its blocking connection.
    const names = await waitFor('the workers to connect', async () => {
      const now = await namesOfPe();
      return now.filter((n) => n.startsWith(`${prefix}:`)).length === 3 ? now : undefined;
    });
    const own = names.filter((n) => n.endsWith(`:${prefix}`));
    // The queues' producer connection, each worker's own, and the lookup change channel's publisher and
    // subscriber.
    expect(own).toEqual([
      `mra-gateway-producer:${prefix}`,
      `mra-gateway-producer:${prefix}`,
      `mra-gateway-worker:${prefix}`,
      `mra-gateway-worker:${prefix}`,
      `mra-gateway-worker:${prefix}`,
      `mra-gateway-worker:${prefix}`,
    ]);
    await ex.stop('PE');
    await waitFor('every connection closed', async () =>
      (await namesOfPe()).length === 0 ? true : undefined,
    );
  });
});
