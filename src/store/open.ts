import type { StorageSettings } from '../config/types.ts';
import { openEmbedded } from './embedded.ts';
import { migrate } from './migrate.ts';
import { openPostgres } from './postgres.ts';
import type { Store } from './types.ts';

/** Opens the configured store and brings its schema up to date. */
export async function openStore(settings: StorageSettings): Promise<Store> {
  const store =
    settings.kind === 'postgres'
      ? openPostgres({ connectionString: settings.databaseUrl })
      : await openEmbedded(settings.dataDir);
  try {
    await migrate(store);
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  return store;
}
