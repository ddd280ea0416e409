/**
 * A gateway that cannot listen (its API port taken) fails to start with the cause, and leaves nothing running
 * behind the error: no PostgreSQL session of its own store, no timers keeping the process alive (a queue
 * worker closed while its stalled check was asking Redis used to leave one for the check's 30 s interval).
 */
import { createServer, type Server } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../src/config/types.ts';
import { startGateway } from '../../src/gateway.ts';
import { createLogger } from '../../src/log.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

let admins: TestAdmins;
let db: TestDatabase;
let taken: Server;
let port: number;

beforeAll(async () => {
  admins = makeAdmins(['PE', 'CL']);
  db = await createTestDatabase();
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const address = taken.address();
  port = typeof address === 'object' && address !== null ? address.port : 0;
});

afterAll(async () => {
  await new Promise((resolve) => taken.close(resolve));
  await db.drop();
  admins.cleanup();
});

async function sessions(): Promise<number> {
  const name = new URL(db.url).pathname.slice(1);
  const c = new pg.Client({ connectionString: db.url.replace(`/${name}`, '/postgres') });
  await c.connect();
  try {
    const { rows } = await c.query<{ n: string }>(
      'SELECT count(*)::text AS n FROM pg_stat_activity WHERE datname = $1',
      [name],
    );
    return Number(rows[0]?.n);
  } finally {
    await c.end();
  }
}

describe('a gateway whose API port is taken', () => {
  it('fails with the cause and closes what it had started', async () => {
    const loaded = admins.get('PE').config;
    const config: GatewayConfig = {
      ...loaded,
      storage: { kind: 'postgres', databaseUrl: db.url },
      api: { ...loaded.api, port },
    };
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    await expect(startGateway(config, { log: createLogger('silent') })).rejects.toThrow(
      /cannot listen on 127\.0\.0\.1:\d+: address in use/,
    );
    // Its store ran migrations and loaded the read model, so it did connect; every session is gone.
    // Up to 20 s: sessions end as the server notices, which is slow on a loaded machine (docs/threats.md 80).
    for (let i = 0; i < 200 && (await sessions()) > 0; i += 1) await new Promise((r) => setTimeout(r, 100));
    expect(await sessions()).toBe(0);
    // No timer holds the process: a Redis connection's close may keep one for up to 2 s (ioredis's
    // disconnectTimeout) until its socket closes; a queue worker's stalled check would keep one for 30 s.
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    for (let i = 0; i < 100 && timers() > before; i += 1) await new Promise((r) => setTimeout(r, 100));
    expect(timers()).toBeLessThanOrEqual(before);
  });
});
