/**
 * The outbox relay's scheduling (src/outbox-relay.ts): keys are relayed side by side, so a partner whose claim
 * is slow does not hold back another's; a key's own passes never overlap; and a wake for one key (its batch
 * settled) relays that key at once without asking which keys are due, while a wake over every key passes by a
 * key whose job is in flight until then (or the timer's pass). Claims run in real PostgreSQL
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
  const relayOf = (flow: OutboxFlow<Job>, producer: JobProducer<Job>) =>
    createOutboxRelay({ flow, store, producer, jobIdOf: (j) => `${j.key}-${j.n}`, usable: () => true, log });
  /** Until `n` jobs were added (bounded), and a little longer for any that should not be. */
  const settled = async (added: readonly Job[], n: number) => {
    for (let i = 0; i < 100 && added.length < n; i++) await sleep(10);
    await sleep(50);
  };

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
    const relay = relayOf(rec.flow, producer);
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
    const relay = relayOf(rec.flow, producer);
    // Many wakes of the same key while its pass runs fold into one more pass, never a second at once.
    for (let i = 0; i < 10; i++) relay.wake('CL');
    for (let i = 0; i < 100 && added.length < 2; i++) await sleep(10);
    await sleep(100);
    await relay.stop();
    expect(rec.dueCalls()).toBe(0);
    expect(added.map((j) => j.n)).toEqual([1, 2]);
    expect(rec.overlapped()).toBe(false);
  });

  it('leaves a key with its job in flight out of wakes over every key, until its own wake or the timer', async () => {
    const rec = recordingFlow(['CL'], new Set(), 0);
    const { producer, added } = recordingProducer();
    const relay = relayOf(rec.flow, producer);
    const settle = (n: number) => settled(added, n);
    relay.wake();
    await settle(1);
    expect(added.map((j) => j.n)).toEqual([1]);
    // Commits go on while CL's batch is out: its pass could only find the job open, so none runs.
    for (let i = 0; i < 5; i++) {
      relay.wake();
      await sleep(20);
    }
    expect(rec.dueCalls()).toBe(6);
    expect(added.map((j) => j.n)).toEqual([1]);
    // The batch settled: CL's next rows go at once.
    relay.wake('CL');
    await settle(2);
    expect(added.map((j) => j.n)).toEqual([1, 2]);
    // The timer's pass looks at CL all the same (a job lost or finished elsewhere is found there).
    relay.start(60_000);
    await settle(3);
    await relay.stop();
    expect(added.map((j) => j.n)).toEqual([1, 2, 3]);
  });

  it('wakes the keys a commit names without asking which are due, leaving one in flight out', async () => {
    const rec = recordingFlow(['CL', 'AR'], new Set(), 0);
    const { producer, added } = recordingProducer();
    const relay = relayOf(rec.flow, producer);
    const settle = (n: number) => settled(added, n);
    relay.wakeKeys(['CL']);
    await settle(1);
    expect(added.map((j) => `${j.key}-${j.n}`)).toEqual(['CL-1']);
    // CL's batch is out: a commit for both relays AR only, and nothing asked the outbox which keys are due.
    relay.wakeKeys(['CL', 'AR']);
    await settle(2);
    await relay.stop();
    expect(added.map((j) => `${j.key}-${j.n}`)).toEqual(['CL-1', 'AR-1']);
    expect(rec.dueCalls()).toBe(0);
  });

  it('finds a job open at its claim and leaves the key out of the next wakes over every key', async () => {
    const rec = recordingFlow(['CL'], new Set(), 0);
    rec.flow.marked = async () => [{ jobId: 'CL-0', recent: false }];
    let lookups = 0;
    const producer: JobProducer<Job> = {
      async add() {
        throw new Error('nothing is claimed while a job is open');
      },
      async presence() {
        lookups++;
        return 'open';
      },
      async remove() {},
    };
    const relay = relayOf(rec.flow, producer);
    relay.wake();
    for (let i = 0; i < 100 && lookups < 1; i++) await sleep(10);
    await sleep(50);
    for (let i = 0; i < 3; i++) {
      relay.wake();
      await sleep(20);
    }
    relay.wake('CL');
    await sleep(100);
    await relay.stop();
    // The first pass and the key's own wake looked; the three wakes over every key did not.
    expect(lookups).toBe(2);
    expect(rec.claimsAt.size).toBe(0);
  });

  it(`claims at most ${KEYS_AT_ONCE} keys at a time`, async () => {
    const keys = Array.from({ length: KEYS_AT_ONCE * 3 }, (_, i) => `K${i}`);
    const rec = recordingFlow(keys, new Set(keys), 30);
    const { producer, added } = recordingProducer();
    const relay = relayOf(rec.flow, producer);
    relay.wake();
    for (let i = 0; i < 300 && added.length < keys.length; i++) await sleep(10);
    await relay.stop();
    expect(added).toHaveLength(keys.length);
    expect(rec.maxAtOnce()).toBe(KEYS_AT_ONCE);
  });
});
