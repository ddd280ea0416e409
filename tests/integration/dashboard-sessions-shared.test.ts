/**
 * Dashboard sessions across processes and replicas: a session opened through one gateway's connection pool is
 * accepted by another's on the same PostgreSQL database, and closing it on one ends it on both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/config/types.ts';
import { DashboardSessions } from '../../src/http/dashboard-session.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/types.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

const client: ApiClient = { id: 'operators', tokenSha256: '0'.repeat(64), scopes: new Set(['admin']) };
let db: TestDatabase;
let stores: Store[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  stores = [
    await openStore({ kind: 'postgres', databaseUrl: db.url }),
    await openStore({ kind: 'postgres', databaseUrl: db.url }),
  ];
  await migrate(stores[0] as Store);
});

afterAll(async () => {
  for (const store of stores) await store.close();
  await db?.drop();
});

describe('dashboard sessions on one database', () => {
  it('a session opened on one process is accepted by another, and closed on both', async () => {
    const [one, two] = stores.map((store) => new DashboardSessions(store, [client], () => new Date()));
    if (one === undefined || two === undefined) throw new Error('two stores expected');
    const id = await one.open(client);
    expect(await two.find(id)).toBe(client);
    await two.close(id);
    expect(await one.find(id)).toBeUndefined();
  });
});
