/**
 * A partner's next batch is claimed as soon as the partner has answered the batch in flight with a verified
 * receipt, while that receipt is still being kept (src/delivery/relay.ts, deliver.ts `onAnswered`): the
 * partner holds the earlier batch already, so the next one cannot overtake it. Until that answer, the batch in
 * flight holds the partner's next rows back. Real PostgreSQL outbox rows; a stand-in producer that says the
 * job in flight is open.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../src/config/types.ts';
import { createRelay } from '../../src/delivery/relay.ts';
import { createLogger } from '../../src/log.ts';
import { type DeliveryJob, deliveryJobId } from '../../src/queue/jobs.ts';
import type { JobProducer } from '../../src/queue/producer.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import type { Store } from '../../src/store/types.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// Only what the delivery relay reads of the configuration.
const config = {
  partners: [{ adminId: 'CL' }],
  redis: { commandTimeoutMs: 1_000 },
  outbound: { batchSize: 2 },
} as unknown as GatewayConfig;

describe('the delivery relay and an answered batch', () => {
  let db: TestDatabase;
  let store: Store;

  beforeAll(async () => {
    db = await createTestDatabase();
    store = openPostgres({ connectionString: db.url });
    await migrate(store);
    for (let i = 1; i <= 4; i++) {
      await store.query(
        `INSERT INTO home_record (record_id, aeo_id, version, status, programme, roles, jws, digest, created_at)
         VALUES (gen_random_uuid(), $1, 1, 'certified', 'AEO-F', '{exporter}', 'x.y.z', 'd', now())`,
        [`PE${i}`],
      );
    }
    await store.query(
      `INSERT INTO outbox (partner, record_seq, created_at) SELECT 'CL', seq, now() FROM home_record ORDER BY seq`,
    );
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('holds the next rows while a batch is out, and claims them once the partner has answered it', async () => {
    const added: DeliveryJob[] = [];
    let lookups = 0;
    const producer: JobProducer<DeliveryJob> = {
      async add(job) {
        added.push(job);
        return deliveryJobId(job);
      },
      async presence() {
        lookups++;
        return 'open';
      },
      async remove() {},
    };
    const answered = new Set<string>();
    const relay = createRelay({
      config,
      store,
      answered,
      producer,
      usable: () => true,
      log: createLogger('silent'),
    });
    const claimed = async (n: number) => {
      for (let i = 0; i < 100 && added.length < n; i++) await sleep(10);
      await sleep(50);
    };
    relay.wake();
    await claimed(1);
    const first = deliveryJobId(added[0]!);
    expect(first).toBe('CL-1-2');
    // The first batch is out and not answered: its rows hold the next ones back.
    relay.wake('CL');
    await claimed(2);
    expect(added.map(deliveryJobId)).toEqual([first]);
    expect(lookups).toBe(1);
    // Answered with a verified receipt, not kept yet: the rows are still open, and the next batch goes.
    answered.add(first);
    relay.wake('CL');
    await claimed(2);
    expect(added.map(deliveryJobId)).toEqual([first, 'CL-3-4']);
    const rows = await store.query<{ id: string; state: string; job_id: string }>(
      'SELECT id::text, state, job_id FROM outbox ORDER BY id',
    );
    expect(rows.map((r) => [r.state, r.job_id])).toEqual([
      ['pending', 'CL-1-2'],
      ['pending', 'CL-1-2'],
      ['pending', 'CL-3-4'],
      ['pending', 'CL-3-4'],
    ]);
    // The first batch's receipt kept: its wake finds a later job of the partner in flight and looks no further.
    answered.delete(first);
    relay.wake('CL', first);
    await sleep(100);
    await relay.stop();
    expect(lookups).toBe(1);
    expect(added).toHaveLength(2);
  });
});
