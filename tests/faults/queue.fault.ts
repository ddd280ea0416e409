/**
 * docs/threats.md 66 and 67 for real: a 100,000-record backlog (FAULTS_BACKLOG, a multiple of 4, for a quicker
 * run) to a partner that comes back, drained by a gateway process whose memory is read from its own metrics; and corrupt
 * jobs written into both queues on Redis, next to a stream of real work.
 */
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { deliveryQueueName, JOB_NAMES, QUEUE_NAMES } from '../../src/queue/jobs.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { childGateway } from '../support/child-gateway.ts';
import { createTestDatabase } from '../support/db.ts';
import { waitFor } from '../support/delivery.ts';
import { API_TOKENS, freePorts, makeLinkedAdmins } from '../support/exchange.ts';
import { publishBacklog } from '../support/fault-backlog.ts';
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
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import {
  BUFFER_GROWTH_BOUND,
  describeGrowth,
  HANDLE_GROWTH_BOUND,
  LIVE_GROWTH_BOUND,
  type MemorySample,
  memoryGrowth,
  RSS_GROWTH_BOUND,
} from '../support/memory-flat.ts';
import { readMemory, startMemorySampler } from '../support/memory-sampler.ts';
import { startReceiver } from '../support/webhook-receiver.ts';
import { report } from './report.ts';

const RECORDS = Number(process.env.FAULTS_BACKLOG ?? 100_000);
const BATCH = 500;
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('queues under stress', () => {
  it('G67 corrupt job data in Redis: those jobs dead-lettered, the rest continue', async () => {
    const ex = await makeFaultExchange();
    cleanups.push(() => ex.close());
    const receiver = await startReceiver();
    cleanups.push(() => receiver.stop());
    await ex.start('CL');
    await ex.start('PE');
    await subscribe(ex.gw('PE').gateway.apiUrl, receiver.url('/border'));
    const prefix = ex.admins.get('PE').config.redis.prefix;
    const connection = { host: '127.0.0.1', port: 6379 };
    const delivery = new Queue(deliveryQueueName('CL'), { connection, prefix });
    const notifications = new Queue(QUEUE_NAMES.notifications, { connection, prefix });
    cleanups.push(async () => {
      await delivery.close();
      await notifications.close();
    });
    const badDeliveries: [string, unknown][] = [
      ['junk-1', { nonsense: true }],
      ['junk-2', { v: 1, partner: 'CL', firstId: 'x', lastId: 2 }],
      ['junk-3', { v: 1, partner: 'PE', firstId: 1, lastId: 1 }],
      // Ids of the real jobs' form, far above any real row, so the relay never takes them for its own.
      ['CL-900007-900009', { v: 1, partner: 'CL', firstId: 1, lastId: 1_000_000 }],
      ['junk-5', { v: 2, partner: 'CL', firstId: 1, lastId: 1 }],
    ];
    const badNotifications: [string, unknown][] = [
      ['junk-n1', { nonsense: true }],
      ['junk-n2', { v: 1, id: 'x' }],
      ['notification-900007', { v: 1, id: 8 }],
      ['junk-n4', { v: 2, id: 1 }],
    ];
    for (const [jobId, data] of badDeliveries)
      await delivery.add(JOB_NAMES.deliverBatch, data, { jobId, attempts: 5 });
    for (const [jobId, data] of badNotifications)
      await notifications.add(JOB_NAMES.notify, data, { jobId, attempts: 5 });
    // Real work around them.
    const p = await publishMany(ex.gw('PE'), 50);
    const q = await pushMany(ex.gw('PE'), ex.admins.get('CL').config.home.signers[0]!, 50, 10);
    await allDelivered(ex, 50);
    await allNotified(receiver, q.aeoIds);
    await notificationsSettled(ex.store('PE'));
    const failedD = await waitFor('corrupt delivery jobs dead', async () => {
      const jobs = await delivery.getFailed();
      return jobs.length >= badDeliveries.length ? jobs : undefined;
    });
    const failedN = await waitFor('corrupt notification jobs dead', async () => {
      const jobs = await notifications.getFailed();
      return jobs.length >= badNotifications.length ? jobs : undefined;
    });
    const failed = [...failedD, ...failedN];
    expect(failed.every((j) => j.failedReason.startsWith('corrupt job data:'))).toBe(true);
    expect(failed.every((j) => j.attemptsMade === 1)).toBe(true);
    const held = await heldCounts(ex, p.recordIds, p.aeoIds);
    expect(held).toEqual({ once: 50, duplicates: 0, lost: 0 });
    const hooks = webhookCounts(receiver.on('/border'), q.aeoIds);
    expect(hooks.events).toBe(50);
    report(
      'G67',
      `corrupt jobs: ${badDeliveries.length} delivery and ${badNotifications.length} notification jobs dead-lettered ` +
        `after 1 attempt each (of 5 allowed); meanwhile ${held.once} decisions delivered once, 0 lost, ` +
        `${hooks.events} webhooks for ${hooks.operators} operators`,
    );
  });

  it(
    `G66 ${RECORDS}-record backlog: bounded batches, order kept, each once, memory flat`,
    async () => {
      const db = await createTestDatabase();
      cleanups.push(() => db.drop());
      const [apiPort] = (await freePorts(1)) as [number];
      const admins = await makeLinkedAdmins(['PE', 'CL'], {
        redis: true,
        edit: (id, raw) => {
          raw.outbound = {
            ...raw.outbound,
            batchSize: BATCH,
            attempts: 100,
            backoffMs: 1_000,
            maxBackoffMs: 5_000,
            requestTimeoutMs: 60_000,
            relayIntervalMs: 500,
          };
          if (id === 'PE') raw.api = { ...raw.api, port: apiPort };
        },
      });
      cleanups.push(() => admins.cleanup());
      const pe = childGateway({
        configPath: admins.get('PE').configPath,
        databaseUrl: db.url,
        serverPort: admins.get('PE').config.server.port,
        apiPort,
        env: { LOG_LEVEL: 'silent' },
      });
      cleanups.push(() => pe.kill());
      const store = openPostgres({ connectionString: db.url });
      cleanups.push(() => store.close());
      await pe.start();
      const count = async (sql: string) => Number((await store.query<{ n: string }>(sql))[0]?.n);
      const t0 = Date.now();
      await publishBacklog(store, admins.get('PE').config.home.signers[0]!, RECORDS / 4);
      const publishMs = Date.now() - t0;
      await waitFor('a failed attempt to the partner', async () =>
        (await count(`SELECT count(*)::text AS n FROM outbox WHERE state = 'retrying'`)) > 0
          ? true
          : undefined,
      );
      let samples: MemorySample[] = [await readMemory(pe.apiUrl, API_TOKENS.monitoring)];
      const sampler = startMemorySampler(pe.apiUrl, API_TOKENS.monitoring);
      const t1 = Date.now();
      let cl: TestGateway | undefined;
      try {
        cl = await startTestGateway(admins.get('CL').config, 'postgres');
        cleanups.push(() => cl?.close());
        await waitFor(
          'the backlog drained',
          async () =>
            (await count(`SELECT count(*)::text AS n FROM outbox WHERE state IN ('delivered', 'dead')`)) ===
            RECORDS
              ? true
              : undefined,
          20 * 60_000,
          1_000,
        );
      } finally {
        samples = [...samples, ...(await sampler.stop())];
      }
      const drainMs = Date.now() - t1;
      const outcomes = await store.query<{ state: string; outcome: string | null; n: string }>(
        'SELECT state, outcome, count(*)::text AS n FROM outbox GROUP BY state, outcome',
      );
      // Accepted every one: no lower version after a higher one of the same operator (superseded), none dead.
      expect(outcomes.map((o) => [o.state, o.outcome, Number(o.n)])).toEqual([
        ['delivered', 'accepted', RECORDS],
      ]);
      const [batches] = await store.query<{ receipts: string; largest: string }>(
        `SELECT count(*)::text AS receipts, max(n)::text AS largest
         FROM (SELECT receipt_id, count(*) AS n FROM outbox GROUP BY receipt_id) b`,
      );
      expect(Number(batches!.largest)).toBeLessThanOrEqual(BATCH);
      const [held] = await cl!.store.query<{ n: string; ids: string; at4: string }>(
        `SELECT (SELECT count(*) FROM inbound_record WHERE issuer = 'PE')::text AS n,
              (SELECT count(DISTINCT record_id) FROM inbound_record WHERE issuer = 'PE')::text AS ids,
              (SELECT count(*) FROM operator_state WHERE issuer = 'PE' AND version = 4)::text AS at4`,
      );
      expect(held).toEqual({ n: String(RECORDS), ids: String(RECORDS), at4: String(RECORDS / 4) });
      const growth = memoryGrowth(samples);
      expect(growth.peak - growth.start).toBeLessThanOrEqual(RSS_GROWTH_BOUND);
      expect(growth.live).toBeLessThanOrEqual(LIVE_GROWTH_BOUND);
      expect(growth.buffers).toBeLessThanOrEqual(BUFFER_GROWTH_BOUND);
      expect(growth.handles).toBeLessThanOrEqual(HANDLE_GROWTH_BOUND);
      report(
        'G66',
        `${RECORDS}-record backlog (published in ${Math.round(publishMs / 1000)} s): drained in ` +
          `${Math.round(drainMs / 1000)} s in ${batches!.receipts} batches of at most ${batches!.largest}; ` +
          `${held!.ids} held once at the partner, 0 twice, 0 lost, 0 superseded (order kept); PE ` +
          describeGrowth(growth, samples.length),
      );
      await pe.stop();
    },
    40 * 60_000,
  );
});
