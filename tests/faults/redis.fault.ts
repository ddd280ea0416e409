/**
 * docs/threats.md 53–56 for real, on a private redis-server: down at start, SHUTDOWN NOSAVE mid-flow, an evicting
 * policy, CLIENT PAUSE 5000. PE publishes decisions (delivered to CL) and receives CL's records (notified to a
 * border receiver); every case counts what arrived once, twice or never.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import { type Exchange, waitFor } from '../support/delivery.ts';
import { freePorts } from '../support/exchange.ts';
import { clientPause, shutdownNoSave } from '../support/fault-redis.ts';
import {
  allDelivered,
  allNotified,
  heldCounts,
  makeFaultExchange,
  notificationsSettled,
  publishMany,
  pushMany,
  subscribe,
  webhookCounts,
} from '../support/fault-world.ts';
import { httpRequest } from '../support/gateway.ts';
import { REDIS_SERVER, type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { startReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';
import { report } from './report.ts';

let ex: Exchange;
let port: number;
let redis: RedisServer | undefined;
let receiver: WebhookReceiver;
const published = { recordIds: [] as string[], aeoIds: [] as string[] };
const pushed: string[] = [];

if (REDIS_SERVER === undefined) console.log('G53–G56 not run: redis-server is not installed');

beforeAll(async () => {
  if (REDIS_SERVER === undefined) return;
  [port] = (await freePorts(1)) as [number];
  ex = await makeFaultExchange({
    redisUrl: `redis://127.0.0.1:${port}`,
    // Enough attempts to outlast every outage here: nothing may go dead.
    outbound: { attempts: 100, backoffMs: 100, maxBackoffMs: 3_000 },
  });
  receiver = await startReceiver();
});
afterAll(async () => {
  redis?.resume();
  await ex?.close();
  await receiver?.stop();
  await redis?.kill();
});

const readiness = async () =>
  JSON.parse((await httpRequest(`${ex.gw('PE').gateway.apiUrl}/health/ready`, { method: 'GET' })).text) as {
    status: string;
    redis: boolean;
  };

function keep(p: { recordIds: string[]; aeoIds: string[] }): void {
  published.recordIds.push(...p.recordIds);
  published.aeoIds.push(...p.aeoIds);
}

/** Everything published and pushed so far, settled: counts for the line. */
async function settle() {
  await allDelivered(ex, published.recordIds.length);
  await allNotified(receiver, pushed);
  await notificationsSettled(ex.store('PE'));
  const held = await heldCounts(ex, published.recordIds, published.aeoIds);
  const hooks = webhookCounts(receiver.on('/border'), pushed);
  expect(held).toEqual({ once: published.recordIds.length, duplicates: 0, lost: 0 });
  expect(hooks.events).toBe(pushed.length);
  expect(hooks.operators).toBe(pushed.length);
  expect(hooks.differing).toBe(0);
  return { held, hooks };
}

describe.skipIf(REDIS_SERVER === undefined)('Redis faults', () => {
  it('G53 Redis down at start: receipts and decisions answered, degraded, all delivered once it is up', async () => {
    const t0 = Date.now();
    await ex.start('PE');
    await ex.start('CL');
    const startMs = Date.now() - t0;
    expect(startMs).toBeLessThan(30_000);
    expect(await readiness()).toMatchObject({ status: 'degraded', redis: false });
    await subscribe(ex.gw('PE').gateway.apiUrl, receiver.url('/border'));
    const p = await publishMany(ex.gw('PE'), 50);
    keep(p);
    const q = await pushMany(ex.gw('PE'), ex.admins.get('CL').config.home.signers[0]!, 50);
    pushed.push(...q.aeoIds);
    // No request waited on Redis beyond its command timeout.
    expect(Math.max(p.maxMs, q.maxMs)).toBeLessThan(10_000);
    redis = await startRedisServer(port);
    const { held, hooks } = await settle();
    report(
      'G53',
      `redis down at start: started in ${startMs} ms, ready=degraded; ${p.recordIds.length} decisions ` +
        `(slowest ${p.maxMs} ms), ${q.receipts} receipts for ${q.aeoIds.length} partner records (slowest ${q.maxMs} ms); ` +
        `redis up: ${held.once} delivered once, ${held.duplicates} duplicates, ${held.lost} lost, ` +
        `${hooks.events} webhooks (${hooks.resent} resent with the same id)`,
    );
  });

  it('G54 Redis SHUTDOWN NOSAVE mid-flow: the outbox is relayed again, each effect once', async () => {
    await ex.stop('CL'); // deliveries pile up as retries in Redis
    const before = webhookCounts(receiver.on('/border'), pushed).received;
    const p = await publishMany(ex.gw('PE'), 200);
    keep(p);
    const pushing = pushMany(ex.gw('PE'), ex.admins.get('CL').config.home.signers[0]!, 200, 20);
    // Mid-flow: notifications going out while Redis dies.
    await waitFor('notifications under way', async () =>
      receiver.on('/border').length > before + 10 ? true : undefined,
    );
    await shutdownNoSave(redis!);
    redis = undefined;
    const q = await pushing;
    pushed.push(...q.aeoIds);
    await waitFor('readiness to see Redis gone', async () => ((await readiness()).redis ? undefined : true));
    redis = await startRedisServer(port);
    await ex.start('CL');
    const { held, hooks } = await settle();
    report(
      'G54',
      `redis killed mid-flow (SHUTDOWN NOSAVE): ${p.recordIds.length} more decisions and ${q.aeoIds.length} more ` +
        `partner records; after restart ${held.once} decisions delivered once in all, ${held.duplicates} duplicates, ` +
        `${held.lost} lost; ${hooks.events} webhooks for ${hooks.operators} operators, ${hooks.resent} resent ` +
        `with the same id and bytes, 0 applied twice`,
    );
  });

  it('G56 Redis paused five seconds (CLIENT PAUSE 5000): latency bounded, workers resume, nothing lost', async () => {
    const signer = ex.admins.get('CL').config.home.signers[0]!;
    const load = Promise.all([publishMany(ex.gw('PE'), 100, 4), pushMany(ex.gw('PE'), signer, 100, 10)]);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    clientPause(port, 5_000);
    const [p, q] = await load;
    keep(p);
    pushed.push(...q.aeoIds);
    // Bounded by the command timeout (1 s here), far under the pause; generous for a loaded machine.
    expect(Math.max(p.maxMs, q.maxMs)).toBeLessThan(10_000);
    const { held, hooks } = await settle();
    report(
      'G56',
      `redis paused 5 s (CLIENT PAUSE 5000 ALL) 300 ms into the load, which ended ${Date.now() - t0} ms after the pause began: slowest decision ${p.maxMs} ms, ` +
        `slowest partner batch ${q.maxMs} ms; ${held.once} delivered once in all, ${held.duplicates} duplicates, ` +
        `${held.lost} lost; ${hooks.events} webhooks (${hooks.resent} resent with the same id)`,
    );
  });

  it('G55 Redis with an evicting maxmemory-policy: the gateway refuses to start, saying why', async () => {
    const lines: string[] = [];
    for (const policy of ['allkeys-lru', 'volatile-lru', 'allkeys-random']) {
      const [p] = (await freePorts(1)) as [number];
      const evicting = await startRedisServer(p, policy);
      const other = await makeFaultExchange({ redisUrl: evicting.url });
      try {
        const error = await other.start('PE').then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(GatewayError);
        expect((error as GatewayError).code).toBe('QUEUE_EVICTION_POLICY');
        expect((error as GatewayError).message).toContain(`"${policy}"`);
        lines.push(`${policy} refused (${(error as GatewayError).code})`);
      } finally {
        await other.close();
        await evicting.kill();
      }
    }
    report('G55', `redis evicting policy: ${lines.join(', ')}; nothing started`);
  });
});
