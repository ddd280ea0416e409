/**
 * The outbox relay's scheduling (src/outbox-relay.ts): keys are relayed side by side, so a partner whose claim
 * is slow does not hold back another's; a key's own passes never overlap; and a wake for one key (its batch
 * settled) relays that key at once without asking which keys are due. Claims run in real PostgreSQL
 * transactions; the flow and the producer are small stand-ins that record what the relay asked of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { createOutboxRelay, KEYS_AT_ONCE, type OutboxFlow } from '../../src/outbox-relay.ts';
import type { JobProducer } from '../../src/queue/producer.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import type { Store } from '../../src/store/types.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

interface Job {
  key: string;
  n: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A flow whose keys each have one row to claim per wake; `slow` keys take `slowMs` to claim. */
function recordingFlow(keys: readonly string[], slow: ReadonlySet<string>, slowMs: number) {
  const claimsAt = new Map<string, number[]>();
  let dueCalls = 0;
  let active = 0;
  let overlapped = false;
  const activeByKey = new Map<string, number>();
  let maxAtOnce = 0;
  const flow: OutboxFlow<Job> = {
    label: 'test',
    oneInFlight: true,
    async due() {
      dueCalls++;
      return keys;
    },
    async lock() {
      return true;
    },
    async marked() {
      return [];
    },
    async claim(_tx, key) {
      active++;
      maxAtOnce = Math.max(maxAtOnce, active);
      const mine = (activeByKey.get(key) ?? 0) + 1;
      activeByKey.set(key, mine);
      if (mine > 1) overlapped = true;
      try {
        await sleep(slow.has(key) ? slowMs : 5);
        const list = claimsAt.get(key) ?? [];
        list.push(performance.now());
        claimsAt.set(key, list);
        return [{ key, n: list.length }];
      } finally {
        active--;
        activeByKey.set(key, (activeByKey.get(key) ?? 1) - 1);
      }
    },
    async release() {},
  };
  return {
    flow,
    claimsAt,
    dueCalls: () => dueCalls,
    overlapped: () => overlapped,
    maxAtOnce: () => maxAtOnce,
  };
}

function recordingProducer() {
  const added: Job[] = [];
  const producer: JobProducer<Job> = {
    async add(job) {
      added.push(job);
      return `${job.key}-${job.n}`;
    },
    async presence() {
      return 'missing';
    },
    async remove() {},
  };
  return { producer, added };
}

describe('outbox relay scheduling', () => {
  let db: TestDatabase;
  let store: Store;
  const log = createLogger('silent');

  beforeAll(async () => {
    db = await createTestDatabase();
    store = openPostgres({ connectionString: db.url });
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('relays keys side by side: a slow key does not hold back the others', async () => {
    const rec = recordingFlow(['SLOW', 'CL', 'AR'], new Set(['SLOW']), 600);
    const { producer, added } = recordingProducer();
    const relay = createOutboxRelay({
      flow: rec.flow,
      store,
      producer,
      jobIdOf: (j) => `${j.key}-${j.n}`,
      usable: () => true,
      log,
    });
    const started = performance.now();
    relay.wake();
    // The fast keys are claimed and enqueued long before the slow key's claim ends.
    for (let i = 0; i < 100 && added.filter((j) => j.key !== 'SLOW').length < 2; i++) await sleep(10);
    expect(added.map((j) => j.key).sort()).toEqual(['AR', 'CL']);
    expect(rec.claimsAt.get('CL')![0]! - started).toBeLessThan(500);
    await relay.stop();
    expect(added.map((j) => j.key).sort()).toEqual(['AR', 'CL', 'SLOW']);
  });

  it("wakes one key without asking which keys are due, and never overlaps a key's passes", async () => {
    const rec = recordingFlow(['CL'], new Set(['CL']), 50);
    const { producer, added } = recordingProducer();
    const relay = createOutboxRelay({
      flow: rec.flow,
      store,
      producer,
      jobIdOf: (j) => `${j.key}-${j.n}`,
      usable: () => true,
      log,
    });
    // Many wakes of the same key while its pass runs fold into one more pass, never a second at once.
    for (let i = 0; i < 10; i++) relay.wake('CL');
    for (let i = 0; i < 100 && added.length < 2; i++) await sleep(10);
    await sleep(100);
    await relay.stop();
    expect(rec.dueCalls()).toBe(0);
    expect(added.map((j) => j.n)).toEqual([1, 2]);
    expect(rec.overlapped()).toBe(false);
  });

  it(`claims at most ${KEYS_AT_ONCE} keys at a time`, async () => {
    const keys = Array.from({ length: KEYS_AT_ONCE * 3 }, (_, i) => `K${i}`);
    const rec = recordingFlow(keys, new Set(keys), 30);
    const { producer, added } = recordingProducer();
    const relay = createOutboxRelay({
      flow: rec.flow,
      store,
      producer,
      jobIdOf: (j) => `${j.key}-${j.n}`,
      usable: () => true,
      log,
    });
    relay.wake();
    for (let i = 0; i < 300 && added.length < keys.length; i++) await sleep(10);
    await relay.stop();
    expect(added).toHaveLength(keys.length);
    expect(rec.maxAtOnce()).toBe(KEYS_AT_ONCE);
  });
});
