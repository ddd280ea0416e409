/**
 * A stop that lands during COMMIT (Store.transaction's signal aborted while PostgreSQL commits) is reported as
 * what happened: committed, or SHUTTING_DOWN with nothing committed, or, when the gateway cannot know, the error
 * as it is; never SHUTTING_DOWN for data that was committed. COMMIT is held open by a deferred constraint
 * trigger that sleeps in it, and the stop comes once the server shows the session sleeping inside COMMIT
 * (pg_stat_activity), so the cancel lands there. What the trigger does with the cancel decides the outcome:
 * - lets it through: the commit fails, nothing is committed, SHUTTING_DOWN;
 * - swallows it: the commit goes on, and the transaction resolves with its value;
 * - ends its own session: the connection is lost during COMMIT, which the gateway reports as STORE_UNAVAILABLE.
 * Either way the cancelled connection is closed, not handed out again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { wasStopped } from '../../src/store/stoppable.ts';
import type { Store } from '../../src/store/types.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { outcomeOf, serverError, sessionGone, sessionWaiting } from '../support/store-stop.ts';

type OnCancel = 'let through' | 'swallow' | 'end session';

let db: TestDatabase;
let store: Store;
let observer: Store;
beforeAll(async () => {
  db = await createTestDatabase();
  store = openPostgres({ connectionString: db.url });
  observer = openPostgres({ connectionString: db.url, max: 2 });
  // The sleep (25 s) is shorter than the statement timeout (30 s): a cancel that never came would let the commit
  // through and fail the first case, rather than pass for the stop's cancel.
  await store.exec(`
    CREATE TABLE commit_probe (n integer NOT NULL, on_cancel text NOT NULL);
    CREATE TABLE commit_probe_cancels (on_cancel text NOT NULL);
    CREATE FUNCTION commit_probe_hold() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_sleep(25);
      RETURN NULL;
    EXCEPTION WHEN query_canceled THEN
      IF NEW.on_cancel = 'swallow' THEN
        INSERT INTO commit_probe_cancels VALUES (NEW.on_cancel);
        RETURN NULL;
      END IF;
      IF NEW.on_cancel = 'end session' THEN
        PERFORM pg_terminate_backend(pg_backend_pid());
        PERFORM pg_sleep(25);
      END IF;
      RAISE;
    END $$;
    CREATE CONSTRAINT TRIGGER commit_probe_hold AFTER INSERT ON commit_probe
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION commit_probe_hold();
  `);
}, 60_000);
afterAll(async () => {
  await observer?.close();
  await store?.close();
  await db?.drop();
});

const committed = async (onCancel: OnCancel) =>
  Number(
    (
      await observer.query<{ n: string }>(
        'SELECT count(*)::text AS n FROM commit_probe WHERE on_cancel = $1',
        [onCancel],
      )
    )[0]?.n,
  );

/** One row inserted, the transaction stopped while its COMMIT runs the trigger; its outcome. */
async function stoppedDuringCommit(onCancel: OnCancel) {
  const stop = new AbortController();
  const { settled, outcome } = outcomeOf(
    store.transaction(
      async (tx) => {
        await tx.query('INSERT INTO commit_probe VALUES (1, $1)', [onCancel]);
        return 'the work';
      },
      { signal: stop.signal },
    ),
  );
  const pid = await sessionWaiting(observer, 'COMMIT', 'PgSleep', settled);
  if (pid === undefined) {
    const early = await outcome;
    throw new Error(
      `ended before its COMMIT was seen: ${'error' in early ? String(early.error) : 'committed'}`,
    );
  }
  stop.abort();
  const result = await outcome;
  await sessionGone(observer, pid);
  return result;
}

describe('a stop during COMMIT', () => {
  it('the commit fails on the cancel: SHUTTING_DOWN, nothing committed', async () => {
    const result = await stoppedDuringCommit('let through');
    expect('error' in result && wasStopped(result.error)).toBe(true);
    // The stop's cancel, not its refusal of a later statement: the server said so.
    expect(serverError('error' in result ? result.error : undefined)).toEqual({
      code: '57014',
      message: 'canceling statement due to user request',
    });
    expect(await committed('let through')).toBe(0);
  }, 90_000);

  it('the commit goes on despite the cancel: committed and reported so, never SHUTTING_DOWN', async () => {
    const result = await stoppedDuringCommit('swallow');
    expect(result).toEqual({ value: 'the work' });
    expect(await committed('swallow')).toBe(1);
    // The cancel did land inside COMMIT: the trigger caught it, and what it wrote then was committed too.
    const [cancels] = await observer.query<{ n: string }>(
      'SELECT count(*)::text AS n FROM commit_probe_cancels',
    );
    expect(cancels?.n).toBe('1');
  }, 90_000);

  it('the connection is lost during COMMIT: the outcome unknown, the error reported as it is', async () => {
    const result = await stoppedDuringCommit('end session');
    const error = 'error' in result ? result.error : undefined;
    expect(error).toBeInstanceOf(GatewayError);
    expect(wasStopped(error)).toBe(false);
    expect((error as GatewayError).code).toBe('STORE_UNAVAILABLE');
    expect(serverError(error)?.code).toBe('57P01');
    // The server ended the session before its commit: nothing was committed, though the gateway cannot know it.
    expect(await committed('end session')).toBe(0);
  }, 90_000);

  it('the store serves on after each', async () => {
    await store.transaction(async (tx) => {
      await tx.query('ALTER TABLE commit_probe DISABLE TRIGGER commit_probe_hold');
      await tx.query('INSERT INTO commit_probe VALUES (2, $1)', ['after']);
    });
    expect(
      Number((await store.query<{ n: string }>('SELECT count(*)::text AS n FROM commit_probe'))[0]?.n),
    ).toBe(2);
  });
});
