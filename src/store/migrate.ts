import { readdirSync, readFileSync } from 'node:fs';
import { LOCKS } from './locks.ts';
import type { Store } from './types.ts';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
// The same for every replica (store/locks.ts), so that one migrates at a time.
const MIGRATION_LOCK = LOCKS.migration;

export interface Migration {
  version: string;
  sql: string;
}

export function listMigrations(): Migration[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({
      version: f.replace(/\.sql$/, ''),
      sql: readFileSync(new URL(f, MIGRATIONS_DIR), 'utf8'),
    }));
}

/** Applies the migrations not yet applied, in order, in one transaction. Returns the versions applied. */
export async function migrate(store: Store): Promise<string[]> {
  return store.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.exec(
      'CREATE TABLE IF NOT EXISTS schema_migration (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set(
      (await tx.query<{ version: string }>('SELECT version FROM schema_migration')).map((r) => r.version),
    );
    const applied: string[] = [];
    for (const m of listMigrations()) {
      if (done.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migration (version) VALUES ($1)', [m.version]);
      applied.push(m.version);
    }
    return applied;
  });
}
