/**
 * docs/threats.md 66: a 100,000-record backlog to a partner that comes back. PE runs as a process of its own so
 * that its memory can be read from /proc; its register is published while its partner CL is down (25,000 operators,
 * four consenting decisions each, so versions 1 to 4; see publishBacklog). When CL comes up, the backlog
 * drains in batches of at most `batchSize`, in outbox order (no version reaches CL after a higher one of the
 * same operator: none is `superseded`), every record exactly once, and PE's memory, sampled every second
 * during the drain from its own metrics, stays within a stated bound of what it was when the drain began, with
 * neither its live heap nor its memory outside the heap growing in the drain's last third.
 *
 * BACKLOG_RECORDS (a multiple of 4) makes the backlog smaller for a quick local run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/store/postgres.ts';
import type { Store } from '../../src/store/types.ts';
import type { TestAdmins } from '../support/admins.ts';
import { type ChildGateway, childGateway } from '../support/child-gateway.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { waitFor } from '../support/delivery.ts';
import { API_TOKENS, freePorts, makeLinkedAdmins } from '../support/exchange.ts';
import { publishBacklog } from '../support/fault-backlog.ts';
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

const RECORDS = Number(process.env.BACKLOG_RECORDS ?? 100_000);
const OPERATORS = RECORDS / 4;
const BATCH = 500;
const MIB = 1024 * 1024;
// PE's memory during the drain is judged by tests/support/memory-flat.ts: its live heap, the buffers it holds and
// its handles must not grow in the drain's last third (measured here: RSS about 190 to 220 MiB idle when the partner
// comes back, 250–380 MiB during the drain as V8 sizes its heap for the load).
const MINUTES = 60_000;

let admins: TestAdmins;
let db: TestDatabase;
let peStore: Store;
let pe: ChildGateway;
let cl: TestGateway | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
  const [apiPort] = (await freePorts(1)) as [number];
  admins = await makeLinkedAdmins(['PE', 'CL'], {
    redis: true,
    edit: (id, raw) => {
      // Down meanwhile: retried at least every 10 s, and not given up on for at least 8 minutes.
      raw.outbound = {
        ...raw.outbound,
        batchSize: BATCH,
        attempts: 100,
        backoffMs: 1_000,
        maxBackoffMs: 10_000,
        requestTimeoutMs: 60_000,
        relayIntervalMs: 500,
      };
      if (id === 'PE') raw.api = { ...raw.api, port: apiPort };
    },
  });
  const serverPort = admins.get('PE').config.server.port;
  pe = childGateway({ configPath: admins.get('PE').configPath, databaseUrl: db.url, serverPort, apiPort });
  peStore = openPostgres({ connectionString: db.url });
  await pe.start();
}, 180_000);

afterAll(async () => {
  await pe?.kill();
  await cl?.close();
  await peStore?.close();
  await db?.drop();
  admins?.cleanup();
});

async function count(store: Store, sql: string): Promise<number> {
  return Number((await store.query<{ n: string }>(sql))[0]?.n);
}

describe('a backlog to a partner that comes back', () => {
  it(
    `drains ${RECORDS} records in bounded batches, in order, each once, with flat memory`,
    async () => {
      const t0 = Date.now();
      await publishBacklog(peStore, admins.get('PE').config.home.signers[0]!, OPERATORS);
      const publishMs = Date.now() - t0;
      expect(await count(peStore, `SELECT count(*)::text AS n FROM outbox WHERE partner = 'CL'`)).toBe(
        RECORDS,
      );
      expect(
        await count(
          peStore,
          `SELECT count(*)::text AS n FROM outbox WHERE partner = 'CL' AND state = 'delivered'`,
        ),
      ).toBe(0);

      // PE has tried the partner and failed: the backlog waits for it.
      await waitFor(
        'a failed attempt to the partner',
        async () =>
          (await count(
            peStore,
            `SELECT count(*)::text AS n FROM outbox WHERE partner = 'CL' AND state = 'retrying'`,
          )) > 0
            ? true
            : undefined,
        2 * MINUTES,
        200,
      );

      // The partner comes back; PE's memory is sampled every second until the backlog is drained.
      let samples: MemorySample[] = [await readMemory(pe.apiUrl, API_TOKENS.monitoring)];
      const sampler = startMemorySampler(pe.apiUrl, API_TOKENS.monitoring);
      const t1 = Date.now();
      try {
        cl = await startTestGateway(admins.get('CL').config, 'postgres');
        await waitFor(
          'the backlog drained',
          async () =>
            (await count(
              peStore,
              `SELECT count(*)::text AS n FROM outbox WHERE partner = 'CL' AND state IN ('delivered', 'dead')`,
            )) === RECORDS
              ? true
              : undefined,
          15 * MINUTES,
          1_000,
        );
      } finally {
        samples = [...samples, ...(await sampler.stop())];
      }
      const drainMs = Date.now() - t1;

      // Every record delivered and accepted: none dead, none superseded (a lower version after a higher one).
      const outcomes = await peStore.query<{ state: string; outcome: string | null; n: string }>(
        `SELECT state, outcome, count(*)::text AS n FROM outbox WHERE partner = 'CL' GROUP BY state, outcome`,
      );
      expect(outcomes.map((o) => [o.state, o.outcome, Number(o.n)])).toEqual([
        ['delivered', 'accepted', RECORDS],
      ]);
      // Bounded batches: one verified receipt per batch of at most BATCH rows.
      const [batches] = await peStore.query<{ receipts: string; largest: string }>(
        `SELECT count(*)::text AS receipts, max(n)::text AS largest
         FROM (SELECT receipt_id, count(*) AS n FROM outbox WHERE partner = 'CL' GROUP BY receipt_id) b`,
      );
      expect(Number(batches!.largest)).toBeLessThanOrEqual(BATCH);
      expect(Number(batches!.receipts)).toBeGreaterThanOrEqual(RECORDS / BATCH);
      // At CL: each record once, and every operator at its last version.
      const [held] = await cl.store.query<{ n: string; ids: string; operators: string; at4: string }>(
        `SELECT (SELECT count(*) FROM inbound_record WHERE issuer = 'PE')::text AS n,
              (SELECT count(DISTINCT record_id) FROM inbound_record WHERE issuer = 'PE')::text AS ids,
              (SELECT count(*) FROM operator_state WHERE issuer = 'PE')::text AS operators,
              (SELECT count(*) FROM operator_state WHERE issuer = 'PE' AND version = 4)::text AS at4`,
      );
      expect(held).toEqual({
        n: String(RECORDS),
        ids: String(RECORDS),
        operators: String(OPERATORS),
        at4: String(OPERATORS),
      });

      const growth = memoryGrowth(samples);
      console.info(
        `backlog: ${RECORDS} records published in ${Math.round(publishMs / 1000)} s, drained in ` +
          `${Math.round(drainMs / 1000)} s in ${batches!.receipts} batches; PE ${describeGrowth(growth, samples.length)}; ` +
          `RSS every tenth sample: ${samples
            .filter((_, i) => i % 10 === 0)
            .map((s) => Math.round(s.rss / MIB))
            .join(' ')}`,
      );
      expect(growth.peak - growth.start).toBeLessThanOrEqual(RSS_GROWTH_BOUND);
      expect(growth.live).toBeLessThanOrEqual(LIVE_GROWTH_BOUND);
      expect(growth.buffers).toBeLessThanOrEqual(BUFFER_GROWTH_BOUND);
      expect(growth.handles).toBeLessThanOrEqual(HANDLE_GROWTH_BOUND);
      await pe.stop();
    },
    40 * MINUTES,
  );
});
