/**
 * A transaction whose work catches a failed statement and goes on: PostgreSQL (and PGlite) abort it and answer
 * its COMMIT with a ROLLBACK and no error. The store reports that as a failure (INTERNAL), never as committed,
 * on both stores: the rows the work wrote before the failure are gone, and its caller must not acknowledge them.
 */
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import type { Store } from '../../src/store/types.ts';
import { bothStores, storeOf } from '../support/both-stores.ts';

const stores = bothStores('CREATE TABLE rolled_back_probe (n integer PRIMARY KEY)');

const rows = async (store: Store) =>
  Number((await store.query<{ n: string }>('SELECT count(*)::text AS n FROM rolled_back_probe'))[0]?.n);

describe.each(['postgres', 'embedded'] as const)('a transaction rolled back at COMMIT (%s)', (kind) => {
  it('is a failure, not a commit, when its work swallowed a failed statement', async () => {
    const store = storeOf(stores, kind);
    let swallowed: unknown;
    const outcome = await store
      .transaction(async (tx) => {
        await tx.query('INSERT INTO rolled_back_probe VALUES (1)');
        try {
          await tx.query('INSERT INTO rolled_back_probe VALUES (1)');
        } catch (error) {
          swallowed = error;
        }
        return 'done';
      })
      .then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
    expect(swallowed).toBeDefined();
    expect('error' in outcome).toBe(true);
    const error = 'error' in outcome ? outcome.error : undefined;
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe('INTERNAL');
    expect((error as GatewayError).message).toMatch(/rolled back/);
    expect(await rows(store)).toBe(0);
  });

  it('commits as before when every statement succeeded, and serves on after a rolled-back one', async () => {
    const store = storeOf(stores, kind);
    const value = await store.transaction(async (tx) => {
      await tx.query('INSERT INTO rolled_back_probe VALUES (2)');
      return 'kept';
    });
    expect(value).toBe('kept');
    expect(await rows(store)).toBe(1);
    await store.exec('DELETE FROM rolled_back_probe');
  });
});
