import { PGlite } from '@electric-sql/pglite';
import { type DataDirLock, type LockOptions, lockDataDir } from './data-dir-lock.ts';
import { rolledBack } from './rolled-back.ts';
import { throwIfStopped } from './stoppable.ts';
import type { Sql, Store } from './types.ts';

/**
 * The embedded store: PGlite (PostgreSQL compiled to WebAssembly) in a data directory, so a first run needs no
 * database server. One connection: transactions are serialised, which is what a single small gateway needs.
 * `dataDir` 'memory://' keeps everything in memory (tests). A folder is locked for this process before PGlite
 * opens it, and freed when the store closes (data-dir-lock.ts, docs/threats.md 77).
 */
export async function openEmbedded(dataDir: string, lockOptions: LockOptions = {}): Promise<Store> {
  const lock: DataDirLock | undefined = dataDir.startsWith('memory://')
    ? undefined
    : lockDataDir(dataDir, lockOptions);
  let db: PGlite;
  try {
    db = await PGlite.create(dataDir);
  } catch (error) {
    lock?.release();
    throw error;
  }

  const query = async <R>(target: Pick<PGlite, 'query'>, text: string, params?: readonly unknown[]) =>
    (await target.query<R>(text, params as unknown[] | undefined)).rows;

  return {
    kind: 'embedded',
    query: (text, params) => query(db, text, params),
    // One process, one connection: a stop cannot cancel the statement in progress, only the next one.
    transaction: async (work, options) => {
      const signal = options?.signal;
      throwIfStopped(signal);
      return db.transaction(async (t) => {
        const tx: Sql = {
          query: (text, params) => {
            throwIfStopped(signal);
            return query(t, text, params);
          },
          exec: async (script) => {
            throwIfStopped(signal);
            await t.exec(script);
          },
        };
        const result = await work(tx);
        // PGlite ends an aborted transaction with a ROLLBACK as quietly as the server does; any statement run in
        // it fails (25P02), so one is run before the COMMIT.
        await t.query('SELECT 1').catch((error: unknown) => {
          throw rolledBack(error);
        });
        return result;
      });
    },
    async exec(script) {
      await db.exec(script);
    },
    async ping() {
      try {
        await db.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      try {
        await db.close();
      } finally {
        lock?.release();
      }
    },
  };
}
