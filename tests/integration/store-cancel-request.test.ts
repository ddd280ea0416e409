/**
 * A stop's cancel is PostgreSQL's CancelRequest (src/store/cancel.ts): sent on a connection of its own with the
 * session's backend key, on the host, port or unix socket of the connection it cancels. So it needs no
 * connection of the pool: a pool whose every connection is in use does not hold it up (a cancel sent as a query
 * would wait for one of them, here the very connection it is meant to cancel). Each case checks that the server
 * cancelled the statement at the stop's request (57014, "user request"), not that the statement ran to its end
 * and the next one was refused, and that the cancelled connection was closed.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/store/postgres.ts';
import { wasStopped } from '../../src/store/stoppable.ts';
import type { Store } from '../../src/store/types.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { outcomeOf, serverError, sessionGone, sessionWaiting } from '../support/store-stop.ts';

const SLEEP = 'SELECT pg_sleep(25)';

let db: TestDatabase;
let observer: Store;
const stores: Store[] = [];
beforeAll(async () => {
  db = await createTestDatabase();
  observer = openPostgres({ connectionString: db.url, max: 2 });
  await observer.exec('CREATE TABLE cancel_probe (n integer)');
}, 60_000);
afterAll(async () => {
  for (const s of stores) await s.close();
  await observer?.close();
  await db?.drop();
});

function open(connectionString: string, max: number): Store {
  // The pool waits a minute for a free connection: a cancel that needed one would not be sent in time.
  const store = openPostgres({ connectionString, max, connectTimeoutMs: 60_000 });
  stores.push(store);
  return store;
}

/** A transaction stopped once the server shows it sleeping; its error and the backend's pid. */
async function stoppedWhileSleeping(store: Store) {
  const stop = new AbortController();
  const { settled, outcome } = outcomeOf(
    store.transaction(
      async (tx) => {
        await tx.query('INSERT INTO cancel_probe VALUES (1)');
        await tx.query(SLEEP);
      },
      { signal: stop.signal },
    ),
  );
  const pid = await sessionWaiting(observer, SLEEP, 'PgSleep', settled);
  expect(pid).toBeDefined();
  const [session] = await observer.query<{ socket: boolean }>(
    'SELECT client_addr IS NULL AS socket FROM pg_stat_activity WHERE pid = $1',
    [pid],
  );
  stop.abort();
  const result = await outcome;
  await sessionGone(observer, pid!);
  const error = 'error' in result ? result.error : undefined;
  return { error, overSocket: session?.socket === true };
}

const rows = async () =>
  Number((await observer.query<{ n: string }>('SELECT count(*)::text AS n FROM cancel_probe'))[0]?.n);

describe("a stop's CancelRequest", () => {
  it('cancels the statement of a pool whose every connection is in use', async () => {
    const store = open(db.url, 1);
    const { error, overSocket } = await stoppedWhileSleeping(store);
    expect(overSocket).toBe(false);
    expect(wasStopped(error)).toBe(true);
    expect(serverError(error)).toEqual({ code: '57014', message: 'canceling statement due to user request' });
    expect(await rows()).toBe(0);
    // The pool's one connection was closed; a new one serves.
    await store.transaction(async (tx) => {
      await tx.query('INSERT INTO cancel_probe VALUES (2)');
    });
    expect(await rows()).toBe(1);
    await observer.exec('DELETE FROM cancel_probe');
  }, 90_000);

  it('reaches a server connected through a unix socket', async (context) => {
    const [row] = await observer.query<{ dirs: string; port: string }>(
      "SELECT current_setting('unix_socket_directories') AS dirs, current_setting('port') AS port",
    );
    const dir = row?.dirs.split(',')[0]?.trim() ?? '';
    const target = new URL(db.url);
    const local = ['127.0.0.1', 'localhost', '[::1]'].includes(target.hostname);
    // Only where the test server is this machine's and listens on a socket here.
    if (!local || !dir.startsWith('/') || !existsSync(`${dir}/.s.PGSQL.${row?.port}`)) {
      context.skip();
      return;
    }
    const auth = target.password === '' ? target.username : `${target.username}:${target.password}`;
    const socketUrl = `postgres://${auth === '' ? '' : `${auth}@`}${target.pathname}?host=${encodeURIComponent(dir)}&port=${row?.port}`;
    const store = open(socketUrl, 2);
    const { error, overSocket } = await stoppedWhileSleeping(store);
    expect(overSocket).toBe(true);
    expect(wasStopped(error)).toBe(true);
    expect(serverError(error)).toEqual({ code: '57014', message: 'canceling statement due to user request' });
    expect(await rows()).toBe(0);
  }, 90_000);
});
