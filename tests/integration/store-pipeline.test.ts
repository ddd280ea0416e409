/**
 * Statements of one transaction sent together (Promise.all over tx.query): the PostgreSQL store pipelines them
 * and BEGIN goes out with the first, so a transaction costs fewer round trips; both stores keep what a flow
 * relies on when it sends statements together: they run in the order sent, and a failure fails the
 * transaction with its own error and leaves nothing written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.ts';
import type { Sql, Store } from '../../src/store/types.ts';
import { bothStores, storeOf } from '../support/both-stores.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startTurnCounter, type TurnCounter } from '../support/turn-counter.ts';

const TABLE = 'CREATE TABLE pipeline_probe (n integer PRIMARY KEY, v text NOT NULL)';
const stores = bothStores(TABLE);

describe.each(['postgres', 'embedded'] as const)('statements sent together (%s)', (kind) => {
  it('run in the order sent: a read sent before a write sees the value it replaces, one after sees it', async () => {
    const store = storeOf(stores, kind);
    await store.query(`INSERT INTO pipeline_probe VALUES (1, 'before')`);
    const [read, , after] = await store.transaction((tx) =>
      Promise.all([
        tx.query<{ v: string }>('SELECT v FROM pipeline_probe WHERE n = 1'),
        tx.query(`UPDATE pipeline_probe SET v = 'after' WHERE n = 1`),
        tx.query<{ v: string }>('SELECT v FROM pipeline_probe WHERE n = 1'),
      ]),
    );
    expect(read[0]?.v).toBe('before');
    expect(after[0]?.v).toBe('after');
  });

  it("fail the transaction with the failed statement's own error, and nothing of it is written", async () => {
    const store = storeOf(stores, kind);
    await store.query(`INSERT INTO pipeline_probe VALUES (2, 'held')`);
    const failedBefore = store.stats?.().errors;
    const outcome = await store
      .transaction((tx) =>
        Promise.all([
          tx.query(`INSERT INTO pipeline_probe VALUES (3, 'first')`),
          tx.query(`INSERT INTO pipeline_probe VALUES (2, 'duplicate')`),
          tx.query(`INSERT INTO pipeline_probe VALUES (4, 'behind it')`),
        ]),
      )
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    // 23505 unique_violation, not 25P02 (the statements behind it, refused in the aborted transaction).
    expect((outcome as { code?: unknown } | undefined)?.code).toBe('23505');
    const rows = await store.query<{ n: number }>(
      'SELECT n FROM pipeline_probe WHERE n IN (2, 3, 4) ORDER BY n',
    );
    expect(rows.map((r) => Number(r.n))).toEqual([2]);
    // One statement failed; the one refused behind it is not counted again (mra_store_query_errors_total).
    if (failedBefore !== undefined) expect(store.stats?.().errors).toBe(failedBefore + 1);
    else expect(kind).toBe('embedded');
  });
});

describe.each(['postgres', 'embedded'] as const)('a transaction whose work has ended (%s)', (kind) => {
  it('refuses a statement sent after it, and runs nothing of it', async () => {
    const store = storeOf(stores, kind);
    let kept: Sql | undefined;
    const failed = await store
      .transaction(async (tx) => {
        kept = tx;
        await tx.query(`INSERT INTO pipeline_probe VALUES (5, 'in the transaction')`);
        throw new Error('the work failed');
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect((failed as Error | undefined)?.message).toBe('the work failed');
    // As a branch of the work still running would, once another had failed: after the ROLLBACK.
    const late = await kept!.query(`INSERT INTO pipeline_probe VALUES (6, 'too late')`).then(
      () => 'ran',
      () => 'refused',
    );
    expect(late).toBe('refused');
    const rows = await store.query<{ n: number }>('SELECT n FROM pipeline_probe WHERE n IN (5, 6)');
    expect(rows).toEqual([]);
  });
});

describe('round trips of a PostgreSQL transaction', () => {
  let db: TestDatabase;
  let counter: TurnCounter;
  let store: Store;
  beforeAll(async () => {
    db = await createTestDatabase();
    const url = new URL(db.url);
    counter = await startTurnCounter(Number(url.port || 5432), 25);
    url.host = `127.0.0.1:${counter.port}`;
    store = await openStore({ kind: 'postgres', databaseUrl: url.toString() });
    await store.exec(TABLE);
    // The pool's connection is open and has parsed the statements below before any turn is counted.
    for (let i = 0; i < 2; i += 1) {
      await store.transaction(async (tx) => {
        await tx.query('SELECT count(*) FROM pipeline_probe WHERE n > $1', [0]);
        await tx.query('SELECT count(*) FROM pipeline_probe WHERE n > $1', [1]);
      });
    }
  }, 60_000);
  afterAll(async () => {
    await store.close();
    await counter.close();
    await db.drop();
  });

  it('sends BEGIN with the first statement, and statements sent together in one turn', async () => {
    counter.reset();
    await store.transaction((tx) =>
      Promise.all([0, 1, 2].map((n) => tx.query('SELECT count(*) FROM pipeline_probe WHERE n > $1', [n]))),
    );
    // BEGIN and the three statements, then COMMIT.
    expect(counter.turns()).toBe(2);

    counter.reset();
    await store.transaction(async (tx) => {
      for (const n of [0, 1, 2]) await tx.query('SELECT count(*) FROM pipeline_probe WHERE n > $1', [n]);
    });
    // BEGIN with the first, the second, the third, COMMIT.
    expect(counter.turns()).toBe(4);
  });
});
