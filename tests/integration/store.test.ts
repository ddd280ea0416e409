import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMigrations, migrate } from '../../src/store/migrate.ts';
import { openStore } from '../../src/store/open.ts';
import { isUnavailable, openPostgres } from '../../src/store/postgres.ts';
import type { Store } from '../../src/store/types.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

const kinds = ['postgres', 'embedded'] as const;

async function open(kind: (typeof kinds)[number]): Promise<Store> {
  return kind === 'postgres'
    ? openStore({ kind: 'postgres', databaseUrl: db.url })
    : openStore({ kind: 'embedded', dataDir: 'memory://' });
}

describe.each(kinds)('store on %s', (kind) => {
  it('applies every migration once, and again is a no-op', async () => {
    const store = await open(kind);
    try {
      const rows = await store.query<{ version: string }>(
        'SELECT version FROM schema_migration ORDER BY version',
      );
      expect(rows.map((r) => r.version)).toEqual(listMigrations().map((m) => m.version));
      expect(await migrate(store)).toEqual([]);
      expect(await store.ping()).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('rolls a transaction back when its work throws', async () => {
    const store = await open(kind);
    try {
      await expect(
        store.transaction(async (tx) => {
          await tx.query(
            `INSERT INTO inbound_receipt (receipt_id, sender, received_at, record_count, accepted_count, receipt_jws)
             VALUES ('00000000-0000-4000-8000-000000000001', 'CL', now(), 0, 0, 'x')`,
          );
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      const rows = await store.query('SELECT 1 FROM inbound_receipt WHERE receipt_id = $1', [
        '00000000-0000-4000-8000-000000000001',
      ]);
      expect(rows).toHaveLength(0);
    } finally {
      await store.close();
    }
  });
});

describe('PostgreSQL', () => {
  it('lets two replicas migrate at the same time without error', async () => {
    const fresh = await createTestDatabase();
    const a = openPostgres({ connectionString: fresh.url });
    const b = openPostgres({ connectionString: fresh.url });
    try {
      const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
      expect([...ra, ...rb].sort()).toEqual(listMigrations().map((m) => m.version));
    } finally {
      await a.close();
      await b.close();
      await fresh.drop();
    }
  });

  it('reports an unreachable server as STORE_UNAVAILABLE with a retry time', async () => {
    const store = openPostgres({ connectionString: 'postgres://postgres@127.0.0.1:1/none' });
    try {
      const error = await store.query('SELECT 1').catch((e: unknown) => e);
      expect(isUnavailable(error)).toBe(true);
      expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE', retryAfterSeconds: 5 });
      expect(await store.ping()).toBe(false);
    } finally {
      await store.close();
    }
  });
});
