/**
 * A transaction a stop cuts short (Store.transaction's `signal`, src/store/stoppable.ts): the background runs
 * over every operator (retention, the monthly summaries) take tens of seconds at a million operators, and a stop
 * that waited for them was killed by its supervisor. On PostgreSQL the statement in progress is cancelled from
 * another connection; on the embedded store the next statement is not run. Either way the transaction is rolled
 * back, SHUTTING_DOWN is thrown, and the store goes on serving.
 */
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import { wasStopped } from '../../src/store/stoppable.ts';
import type { Store } from '../../src/store/types.ts';
import { bothStores, storeOf } from '../support/both-stores.ts';

const stores = bothStores('CREATE TABLE stop_probe (n integer)');

const rows = async (store: Store) =>
  Number((await store.query<{ n: string }>('SELECT count(*)::text AS n FROM stop_probe'))[0]?.n);

describe('a transaction a stop cuts short', () => {
  it('PostgreSQL: cancels the statement in progress, rolls back, throws SHUTTING_DOWN, and serves on', async () => {
    const store = storeOf(stores, 'postgres');
    const stop = new AbortController();
    const t0 = performance.now();
    const run = store.transaction(
      async (tx) => {
        await tx.query('INSERT INTO stop_probe VALUES (1)');
        // Stands for a statement over a million operators; the statement timeout (30 s) is longer.
        await tx.query('SELECT pg_sleep(25)');
        await tx.query('INSERT INTO stop_probe VALUES (2)');
      },
      { signal: stop.signal },
    );
    setTimeout(() => stop.abort(), 300);
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GatewayError);
    expect(wasStopped(error)).toBe(true);
    // Well before the sleep would have ended.
    expect(performance.now() - t0).toBeLessThan(20_000);
    expect(await rows(store)).toBe(0);
    // The store serves on: a plain transaction commits.
    await store.transaction(async (tx) => {
      await tx.query('INSERT INTO stop_probe VALUES (3)');
    });
    expect(await rows(store)).toBe(1);
    await store.exec('DELETE FROM stop_probe');
  }, 60_000);

  it('runs nothing when stopped before it began, on both stores', async () => {
    for (const { store } of stores) {
      const stop = new AbortController();
      stop.abort();
      let ran = false;
      const error = await store
        .transaction(
          async () => {
            ran = true;
          },
          { signal: stop.signal },
        )
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(wasStopped(error)).toBe(true);
      expect(ran).toBe(false);
    }
  });

  it('embedded: the statement after the stop is not run, and what came before is rolled back', async () => {
    const store = storeOf(stores, 'embedded');
    const stop = new AbortController();
    const error = await store
      .transaction(
        async (tx) => {
          await tx.query('INSERT INTO stop_probe VALUES (1)');
          stop.abort();
          await tx.query('INSERT INTO stop_probe VALUES (2)');
        },
        { signal: stop.signal },
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(wasStopped(error)).toBe(true);
    expect(await rows(store)).toBe(0);
  });

  it('a transaction whose signal is never aborted commits as before, on both stores', async () => {
    for (const { store } of stores) {
      const stop = new AbortController();
      await store.transaction(
        async (tx) => {
          await tx.query('INSERT INTO stop_probe VALUES (4)');
        },
        { signal: stop.signal },
      );
      stop.abort(); // after the commit: nothing to cancel, and the connection it used serves on
      expect(await rows(store)).toBe(1);
      await store.exec('DELETE FROM stop_probe');
    }
  });
});
