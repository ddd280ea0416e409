/**
 * The worst moment for docs/threats.md 58, made exact rather than hoped for (as in
 * tests/integration/crash-after-commit.test.ts): a test-only deferred trigger in the test's own database makes
 * the next COMMIT that inserts a receipt wait on an advisory lock the test holds. Once that COMMIT is seen
 * waiting, the test freezes the gateway, releases the lock (the commit completes, unread by the gateway), and
 * kills it. The trigger is dropped on release.
 */
import pg from 'pg';
import type { Store } from '../../src/store/types.ts';
import { waitFor } from './delivery.ts';

const HOLD_LOCK = 58_158;

export interface CommitHold {
  /** Resolves once a COMMIT waits on the held lock. */
  waiting(): Promise<void>;
  /** Lets it through and removes the trigger. */
  release(): Promise<void>;
}

export async function holdCommits(databaseUrl: string): Promise<CommitHold> {
  const holder = new pg.Client({ connectionString: databaseUrl });
  await holder.connect();
  await holder.query(
    `CREATE OR REPLACE FUNCTION test_hold_commit() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN PERFORM pg_advisory_xact_lock_shared(${HOLD_LOCK}); RETURN NULL; END $$`,
  );
  await holder.query('SELECT pg_advisory_lock($1)', [HOLD_LOCK]);
  await holder.query(
    `CREATE CONSTRAINT TRIGGER test_hold_commit AFTER INSERT ON inbound_receipt
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_hold_commit()`,
  );
  return {
    waiting: () =>
      waitFor(
        'a COMMIT waiting on the held lock',
        async () => {
          const { rows } = await holder.query<{ pid: number }>(
            `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'advisory'
                AND query = 'COMMIT'`,
          );
          return rows[0]?.pid === undefined ? undefined : true;
        },
        60_000,
      ).then(() => undefined),
    async release() {
      await holder.query('SELECT pg_advisory_unlock($1)', [HOLD_LOCK]);
      await holder.query('DROP TRIGGER IF EXISTS test_hold_commit ON inbound_receipt');
      await holder.end();
    },
  };
}

/** How many of `recordIds` the store holds an inbound row for. */
export async function heldRecords(store: Store, recordIds: readonly string[]): Promise<number> {
  const [row] = await store.query<{ n: string }>(
    'SELECT count(*)::text AS n FROM inbound_record WHERE record_id::text IN (SELECT jsonb_array_elements_text($1::jsonb))',
    [JSON.stringify(recordIds)],
  );
  return Number(row?.n ?? 0);
}
