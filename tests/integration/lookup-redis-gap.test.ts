/**
 * Pub/sub keeps nothing: a change published while Redis is down reaches no other replica. The replica that
 * missed it reloads from PostgreSQL when its subscription comes back, so its lookups catch up without waiting
 * for the periodic reload.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePorts } from '../support/exchange.ts';
import { type LookupSetup, lookupOne, makeLookupSetup, type Replica, within } from '../support/lookup.ts';
import { freshRecord, nextVersion } from '../support/records.ts';
import { REDIS_SERVER, type RedisServer, startRedisServer } from '../support/redis-server.ts';

let setup: LookupSetup;
let redis: RedisServer | undefined;
let port: number;
let a: Replica;
let b: Replica;

beforeAll(async () => {
  if (REDIS_SERVER === undefined) return;
  [port] = (await freePorts(1)) as [number];
  redis = await startRedisServer(port);
  setup = await makeLookupSetup({ redisUrl: redis.url });
  a = await setup.replica();
  b = await setup.replica();
});

afterAll(async () => {
  await setup?.close();
  await redis?.kill();
});

it.skipIf(REDIS_SERVER === undefined)(
  'catches up after a Redis gap by reloading from PostgreSQL',
  async () => {
    const v1 = freshRecord('CL');
    await setup.send(a, [v1]);
    await within('replica B to see the certification', 2_000, async () => {
      return (await lookupOne(b, 'CL', v1.operator.aeoId)).recognised;
    });

    await redis!.kill();
    redis = undefined;
    const sent = await setup.send(a, [
      nextVersion(v1, 2, { status: 'suspended', statusSince: '2025-01-01' }),
    ]);
    expect(sent.results.map((r) => r.outcome)).toEqual(['accepted']);
    expect((await lookupOne(a, 'CL', v1.operator.aeoId)).reason).toBe('suspended');
    // Nothing can reach B while Redis is away.
    await new Promise((r) => setTimeout(r, 300));
    expect((await lookupOne(b, 'CL', v1.operator.aeoId)).recognised).toBe(true);

    redis = await startRedisServer(port);
    // Reconnection backs off to at most 2 s; the periodic reload (15 s) would be far later.
    // Generous for a loaded machine (docs/threats.md 80), yet short of what a lost reload would take.
    const took = await within('replica B to reload the suspension', 10_000, async () => {
      return (await lookupOne(b, 'CL', v1.operator.aeoId)).reason === 'suspended';
    });
    expect(took).toBeLessThan(10_000);
  },
);
