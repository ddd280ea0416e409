/**
 * Redis faults (docs/threats.md 53, 54), on a private redis-server the test starts and kills: with Redis down at
 * start the gateways run degraded (publishing and inbound answer, readiness says `redis: false`) and deliver
 * once Redis is up; with Redis killed mid-run, losing every job, the outbox is relayed again and every decision
 * arrives exactly once (I1, I3).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { type Exchange, heldAt, makeExchange, settledOutbox, waitFor } from '../support/delivery.ts';
import { freePorts, newAeoId, publish } from '../support/exchange.ts';
import { httpRequest } from '../support/gateway.ts';
import { freshSigned } from '../support/records.ts';
import { REDIS_SERVER, type RedisServer, startRedisServer } from '../support/redis-server.ts';

let ex: Exchange;
let port: number;
let redis: RedisServer | undefined;
const peLog: { msg?: string; presence?: string }[] = [];

beforeAll(async () => {
  if (REDIS_SERVER === undefined) return;
  [port] = (await freePorts(1)) as [number];
  ex = await makeExchange(['PE', 'CL'], {
    redisUrl: `redis://127.0.0.1:${port}`,
    outbound: { attempts: 40, backoffMs: 50, maxBackoffMs: 300 },
  });
});
afterAll(async () => {
  redis?.resume();
  await ex?.close();
  await redis?.kill();
});

async function readiness(id: string) {
  const res = await httpRequest(`${ex.gw(id).gateway.apiUrl}/health/ready`, { method: 'GET' });
  return { status: res.status, body: JSON.parse(res.text) as Record<string, unknown> };
}

const allOnce = async (recordIds: readonly string[], aeoIds: readonly string[]) => {
  const held = await heldAt(ex.store('CL'), 'PE', aeoIds);
  expect(held.evidence.size).toBe(recordIds.length);
  for (const id of recordIds) expect(held.evidence.get(id), id).toBe(1);
};

describe.skipIf(REDIS_SERVER === undefined)('delivery when Redis fails', () => {
  it('starts without Redis, publishes and receives, says degraded, and delivers once Redis is up', async () => {
    const startedAt = Date.now();
    await ex.start(
      'PE',
      createLogger('info', { write: (line: string) => void peLog.push(JSON.parse(line)) }),
    );
    await ex.start('CL');
    // Bounded, not waiting for Redis; generous for a loaded machine (docs/threats.md 80).
    expect(Date.now() - startedAt).toBeLessThan(15_000);
    expect(await readiness('PE')).toEqual({
      status: 200,
      body: { status: 'degraded', database: true, redis: false },
    });

    const aeoIds = [newAeoId('PE'), newAeoId('PE')];
    const t0 = Date.now();
    const published = [await publish(ex.gw('PE'), aeoIds[0]!), await publish(ex.gw('PE'), aeoIds[1]!)];
    // No request waits on Redis: publishing answers at PostgreSQL speed.
    expect(Date.now() - t0).toBeLessThan(10_000);
    // Inbound answers with receipts too: CL's own record pushed straight to PE's partner endpoint.
    const { jws } = await freshSigned('CL', ex.admins.get('CL').config.home.signers[0]!);
    const { results } = await ex.gw('PE').send(jws);
    expect(results.map((r) => r.outcome)).toEqual(['accepted']);

    redis = await startRedisServer(port);
    const rows = await settledOutbox(ex.store('PE'), 'CL', 2);
    expect(rows.map((r) => r.state)).toEqual(['delivered', 'delivered']);
    await allOnce(
      published.map((p) => p.record!.recordId),
      aeoIds,
    );
    await waitFor('PE ready', async () => ((await readiness('PE')).body.redis === true ? true : undefined));
  });

  it('relays the outbox again after a Redis restart that lost every job, and each decision arrives once', async () => {
    // CL away, so PE's first batch sits in Redis as a delayed retry when Redis dies.
    await ex.stop('CL');
    const aeoIds = [newAeoId('PE'), newAeoId('PE'), newAeoId('PE')];
    const recordIds: string[] = [];
    for (const id of aeoIds) recordIds.push((await publish(ex.gw('PE'), id)).record!.recordId);
    await waitFor('a retry pending in Redis', async () => {
      const [row] = await ex
        .store('PE')
        .query<{ n: string }>(
          `SELECT count(*)::text AS n FROM outbox WHERE partner = 'CL' AND state = 'retrying'`,
        );
      return Number(row!.n) > 0 ? true : undefined;
    });

    await redis!.kill();
    // Published while Redis is dead: accepted all the same, delivered later.
    const more = newAeoId('PE');
    aeoIds.push(more);
    recordIds.push((await publish(ex.gw('PE'), more)).record!.recordId);
    await waitFor('readiness to see Redis gone', async () =>
      (await readiness('PE')).body.redis === false ? true : undefined,
    );

    redis = await startRedisServer(port);
    await ex.start('CL');
    const rows = await settledOutbox(ex.store('PE'), 'CL', 2 + recordIds.length);
    expect(rows.every((r) => r.state === 'delivered')).toBe(true);
    await allOnce(recordIds, aeoIds);
    // The batch whose job died with Redis was found missing and enqueued again.
    expect(
      peLog.filter((l) => l.msg?.includes('enqueued again') && l.presence === 'missing').length,
    ).toBeGreaterThan(0);
    // Every delivered row has the verified receipt it names.
    const [missing] = await ex.store('PE').query<{ n: string }>(
      `SELECT count(*)::text AS n FROM outbox o LEFT JOIN outbound_receipt r ON r.receipt_id = o.receipt_id
          WHERE o.partner = 'CL' AND r.receipt_id IS NULL`,
    );
    expect(Number(missing!.n)).toBe(0);
  });

  it('bounds every request while Redis hangs, and delivers what was published once it answers again', async () => {
    redis!.pause();
    try {
      const t0 = Date.now();
      const aeoId = newAeoId('PE');
      const { record } = await publish(ex.gw('PE'), aeoId);
      // Readiness asks Redis, bounded by the command timeout (1 s here), and says so.
      expect((await readiness('PE')).body).toEqual({ status: 'degraded', database: true, redis: false });
      expect(Date.now() - t0).toBeLessThan(10_000);
      await new Promise((r) => setTimeout(r, 1_500)); // the relay's calls time out meanwhile
      redis!.resume();
      await waitFor('delivered after the pause', async () => {
        const [row] = await ex
          .store('PE')
          .query<{ state: string }>(
            `SELECT o.state FROM outbox o JOIN home_record h ON h.seq = o.record_seq WHERE h.record_id = $1`,
            [record!.recordId],
          );
        return row?.state === 'delivered' ? true : undefined;
      });
      await allOnce([record!.recordId], [aeoId]);
    } finally {
      redis!.resume();
    }
  });
});
