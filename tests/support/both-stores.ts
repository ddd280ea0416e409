/**
 * A PostgreSQL store and an embedded one, each with the same probe table, opened before a file's tests and
 * disposed after them: for the store's own rules, which both kinds must keep alike.
 */
import { afterAll, beforeAll } from 'vitest';
import type { Store } from '../../src/store/types.ts';
import { openTestStore } from './gateway.ts';

export type StoreKind = 'postgres' | 'embedded';

export interface KindedStore {
  kind: StoreKind;
  store: Store;
}

/** Opens both stores with `setupSql` run on each; the list fills before the first test. */
export function bothStores(setupSql: string): readonly KindedStore[] {
  const stores: (KindedStore & { dispose(): Promise<void> })[] = [];
  beforeAll(async () => {
    for (const kind of ['postgres', 'embedded'] as const) {
      const { store, dispose } = await openTestStore(kind);
      await store.exec(setupSql);
      stores.push({ kind, store, dispose });
    }
  }, 60_000);
  afterAll(async () => {
    for (const s of stores) await s.dispose();
  });
  return stores;
}

/** The store of `kind` among `stores`. */
export function storeOf(stores: readonly KindedStore[], kind: StoreKind): Store {
  const found = stores.find((s) => s.kind === kind);
  if (found === undefined) throw new Error(`no ${kind} store`);
  return found.store;
}

/** A PostgreSQL store of its own, opened before a file's tests and disposed after them; read it in a test. */
export function postgresStoreOfFile(): () => Store {
  let opened: { store: Store; dispose(): Promise<void> } | undefined;
  beforeAll(async () => {
    opened = await openTestStore('postgres');
  }, 60_000);
  afterAll(async () => {
    await opened?.dispose();
  });
  return () => {
    if (opened === undefined) throw new Error('the store opens before the first test');
    return opened.store;
  };
}
