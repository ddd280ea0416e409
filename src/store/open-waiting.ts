/**
 * Opening the configured store at start when the database may come up later than the gateway (docs/threats.md 68):
 * while PostgreSQL is unreachable the gateway waits, retrying with a growing delay, says so once per distinct
 * cause (the server, database and user, never the password, and why: ECONNREFUSED, a timeout), and does not
 * exit. Any other failure stops the start at once: waiting would not mend it. A server that refuses the
 * gateway (a wrong password, a missing database or role) is STORE_REFUSED, saying which and why.
 */
import type { Logger } from 'pino';
import type { StorageSettings } from '../config/types.ts';
import { openStore } from './open.ts';
import { describeDatabase, isUnavailable, refusedAtStart, unreachableCause } from './postgres.ts';
import type { Store } from './types.ts';

export interface WaitOptions {
  log: Logger;
  /** Called once, at the first failure to reach the database; its result is closed when the store opens. */
  onWaiting?: () => Promise<{ close(): Promise<unknown> }>;
  firstDelayMs?: number;
  maxDelayMs?: number;
}

export async function openStoreWaiting(settings: StorageSettings, options: WaitOptions): Promise<Store> {
  const { log } = options;
  let delay = options.firstDelayMs ?? 500;
  let waiting: { close(): Promise<unknown> } | undefined;
  let lastCause: string | undefined;
  try {
    for (;;) {
      try {
        const store = await openStore(settings, { log });
        if (lastCause !== undefined) log.info('database reachable; starting');
        return store;
      } catch (error) {
        if (!isUnavailable(error)) {
          throw (
            (settings.kind === 'postgres' ? refusedAtStart(error, settings.databaseUrl) : undefined) ?? error
          );
        }
        const where =
          settings.kind === 'postgres' ? describeDatabase(settings.databaseUrl) : settings.dataDir;
        const cause = `the database (${where}) is not reachable: ${unreachableCause(error)}`;
        // The cause names the server (host:port, database, user; never the password) and why: ECONNREFUSED,
        // ETIMEDOUT, a connection timeout.
        if (cause !== lastCause) log.warn({ err: cause, retryInMs: delay }, `${cause}; waiting`);
        lastCause = cause;
        waiting ??= await options.onWaiting?.();
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(options.maxDelayMs ?? 5_000, delay * 2);
    }
  } finally {
    await waiting?.close();
  }
}
