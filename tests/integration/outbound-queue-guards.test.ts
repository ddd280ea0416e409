/**
 * What the gateway does with the queue itself (docs/threats.md 55, 59, 67): a job whose data is corrupt is
 * dead-lettered and the partner's deliveries go on (I7); a delivery job run again after its rows were settled
 * sends nothing (I3); and a Redis that evicts keys is refused at start, saying why.
 */
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import { maxmemoryPolicyOf } from '../../src/queue/eviction.ts';
import { deliveryQueueName, JOB_NAMES } from '../../src/queue/jobs.ts';
import { type Exchange, heldAt, makeExchange, outboxOf, waitFor } from '../support/delivery.ts';
import { freePorts, newAeoId, publish } from '../support/exchange.ts';
import { REDIS_SERVER, startRedisServer } from '../support/redis-server.ts';

describe('corrupt and repeated delivery jobs', () => {
  let ex: Exchange;
  let queue: Queue;
  const peLog: { alert?: string; jobId?: string; msg?: string }[] = [];

  beforeAll(async () => {
    ex = await makeExchange(['PE', 'CL']);
    await ex.start('CL');
    await ex.start(
      'PE',
      createLogger('info', { write: (line: string) => void peLog.push(JSON.parse(line)) }),
    );
    // PE's queue for CL, reached as anyone with access to Redis could.
    queue = new Queue(deliveryQueueName('CL'), {
      connection: { host: '127.0.0.1', port: 6379 },
      prefix: ex.admins.get('PE').config.redis.prefix,
    });
  });
  afterAll(async () => {
    await queue?.close();
    await ex?.close();
  });

  const countAt = async (id: string, table: string) =>
    Number((await ex.store(id).query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`))[0]!.n);

  it('dead-letters jobs with corrupt data and goes on delivering', async () => {
    const corrupt: [string, unknown][] = [
      ['junk-1', { nonsense: true }],
      ['junk-2', { v: 1, partner: 'CL', firstId: 'x', lastId: 2 }],
      ['junk-3', { v: 1, partner: 'PE', firstId: 1, lastId: 1 }],
      ['CL-7-9', { v: 1, partner: 'CL', firstId: 1, lastId: 1_000_000 }],
      ['junk-5', { v: 2, partner: 'CL', firstId: 1, lastId: 1 }],
    ];
    for (const [jobId, data] of corrupt) await queue.add(JOB_NAMES.deliverBatch, data, { jobId });
    // Data that is not even JSON: BullMQ cannot load the job; the worker must not stall on it.
    await queue.add(JOB_NAMES.deliverBatch, {}, { jobId: 'junk-json', delay: 60_000 });
    const client = await queue.client;
    await client.hset(`${ex.admins.get('PE').config.redis.prefix}:${queue.name}:junk-json`, {
      data: '{not json',
    });
    await queue.promoteJobs();

    const aeoId = newAeoId('PE');
    const { record } = await publish(ex.gw('PE'), aeoId);
    await waitFor('the decision delivered after the corrupt jobs', async () => {
      const row = (await outboxOf(ex.store('PE'), 'CL')).find((r) => r.recordId === record!.recordId);
      return row?.state === 'delivered' ? row : undefined;
    });
    expect([...(await heldAt(ex.store('CL'), 'PE', [aeoId])).evidence.values()]).toEqual([1]);

    const failed = await waitFor('the corrupt jobs dead-lettered', async () => {
      const jobs = await queue.getFailed();
      return jobs.length >= corrupt.length ? jobs : undefined;
    });
    expect(Object.fromEntries(failed.map((j) => [j.id, j.failedReason]))).toEqual({
      'junk-1': 'corrupt job data: unknown members nonsense',
      'junk-2': 'corrupt job data: firstId and lastId are not an id range',
      'junk-3': 'corrupt job data: job for PE in the queue of CL',
      'CL-7-9': 'corrupt job data: job id CL-7-9 does not match its data',
      'junk-5': 'corrupt job data: job data version is not 1',
    });
    const alerts = peLog.filter((l) => l.alert === 'job-corrupt').map((l) => l.jobId);
    expect(alerts.sort()).toEqual(corrupt.map(([id]) => id).sort());
    // None of them touched an outbox row.
    expect((await outboxOf(ex.store('PE'), 'CL')).every((r) => r.state === 'delivered')).toBe(true);
  });

  it('runs a job again after its rows were settled without sending anything (redelivery)', async () => {
    const { record } = await publish(ex.gw('PE'), newAeoId('PE'));
    const row = await waitFor('delivered', async () => {
      const r = (await outboxOf(ex.store('PE'), 'CL')).find((o) => o.recordId === record!.recordId);
      return r?.state === 'delivered' ? r : undefined;
    });
    const [job] = await ex
      .store('PE')
      .query<{ job_id: string }>('SELECT job_id FROM outbox WHERE id = $1', [row.id]);
    const receiptsAtCl = await countAt('CL', 'inbound_receipt');
    const receiptsAtPe = await countAt('PE', 'outbound_receipt');

    // As BullMQ would after a worker died between its commit and completing the job.
    await queue.add(
      JOB_NAMES.deliverBatch,
      { v: 1, partner: 'CL', firstId: row.id, lastId: row.id },
      { jobId: job!.job_id },
    );
    await waitFor('the repeated job to finish', async () =>
      (await queue.getJob(job!.job_id)) === undefined ? true : undefined,
    );
    expect(await countAt('CL', 'inbound_receipt')).toBe(receiptsAtCl);
    expect(await countAt('PE', 'outbound_receipt')).toBe(receiptsAtPe);
    expect((await outboxOf(ex.store('PE'), 'CL')).find((r) => r.id === row.id)).toEqual(row);
  });
});

describe.skipIf(REDIS_SERVER === undefined)('a Redis that evicts keys', () => {
  it('is refused at start with a reason, and nothing listens', async () => {
    const [port] = (await freePorts(1)) as [number];
    const lru = await startRedisServer(port, 'allkeys-lru');
    const ex = await makeExchange(['PE', 'CL'], { redisUrl: lru.url });
    try {
      const error = await ex.start('PE').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(GatewayError);
      expect((error as GatewayError).code).toBe('QUEUE_EVICTION_POLICY');
      expect((error as GatewayError).message).toMatch(
        /maxmemory-policy is "allkeys-lru".*needs "noeviction"/,
      );
      const endpoint = ex.admins.get('CL').config.partners.find((p) => p.adminId === 'PE')!.endpoint;
      const refused = await fetch(`${endpoint.replace(/\/mra\/v1$/, '')}/health/live`).then(
        () => false,
        () => true,
      );
      expect(refused).toBe(true);
    } finally {
      await ex.close();
      await lru.kill();
    }
  });

  it('reads the policy from INFO memory and refuses when it is missing', () => {
    expect(maxmemoryPolicyOf('# Memory\r\nused_memory:1\r\nmaxmemory_policy:volatile-lru\r\n')).toBe(
      'volatile-lru',
    );
    expect(maxmemoryPolicyOf('# Memory\r\nused_memory:1\r\n')).toBeUndefined();
  });
});
