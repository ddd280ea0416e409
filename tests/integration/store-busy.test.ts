/**
 * A pool whose connections are all in use for longer than a request waits for one: the request is refused with
 * 503 STORE_BUSY and Retry-After, not an internal error, and nothing of it is done.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError, httpStatusOf } from '../../src/errors.ts';
import { isUnavailable, openPostgres } from '../../src/store/postgres.ts';
import type { Store } from '../../src/store/types.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

let db: TestDatabase;
let store: Store;
beforeAll(async () => {
  db = await createTestDatabase();
  store = openPostgres({ connectionString: db.url, max: 1, connectTimeoutMs: 200 });
  await store.exec('CREATE TABLE t (n int)');
});
afterAll(async () => {
  await store.close();
  await db.drop();
});

describe('a pool with every connection in use', () => {
  it('answers STORE_BUSY with Retry-After, for a transaction and for a single statement, and does nothing', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const holding = store.transaction(async (tx) => {
      await tx.query('INSERT INTO t VALUES (1)');
      await held;
    });
    const waiting = async (work: () => Promise<unknown>) => {
      try {
        await work();
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const inTx = await waiting(() => store.transaction((tx) => tx.query('INSERT INTO t VALUES (2)')));
    const single = await waiting(() => store.query('INSERT INTO t VALUES (3)'));
    release();
    await holding;
    for (const error of [inTx, single]) {
      expect(error).toBeInstanceOf(GatewayError);
      const e = error as GatewayError;
      expect(e.code).toBe('STORE_BUSY');
      expect(httpStatusOf(e.code)).toBe(503);
      expect(e.retryAfterSeconds).toBe(1);
      // Busy is not down: a connection is not thrown away for it.
      expect(isUnavailable(e)).toBe(false);
    }
    const rows = await store.query<{ n: number }>('SELECT n FROM t ORDER BY n');
    expect(rows.map((r) => r.n)).toEqual([1]);
  });
});
