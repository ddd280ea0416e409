import type { Logger } from 'pino';
import type { StorageSettings } from '../config/types.ts';
import { openEmbedded } from './embedded.ts';
import { migrate } from './migrate.ts';
import { openPostgres } from './postgres.ts';
import type { Store } from './types.ts';

/**
 * Opens the configured store and brings its schema up to date. An embedded data folder is locked first
 * (refused with STORE_LOCKED while another process holds it); `log` hears of a stale lock taken over.
 */
export async function openStore(settings: StorageSettings, options: { log?: Logger } = {}): Promise<Store> {
  const { log } = options;
  const store =
    settings.kind === 'postgres'
      ? openPostgres({ connectionString: settings.databaseUrl })
      : await openEmbedded(settings.dataDir, {
          onTakeover: (stale, why) =>
            log?.warn(
              {
                dataDir: settings.dataDir,
                pid: stale.pid,
                host: stale.hostname,
                since: stale.startedAt,
                why,
              },
              'took over the lock of a gateway process that is gone',
            ),
        });
  try {
    await migrate(store);
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  return store;
}
