/**
 * docs/threats.md 58: the gateway process is killed (SIGKILL) after a partner's batch is committed and before the
 * response leaves. The worst moment is made exact, not hoped for: a test-only deferred trigger in the test's
 * own database makes the gateway's COMMIT wait on an advisory lock the test holds; once the COMMIT is seen
 * waiting, the process is stopped (SIGSTOP), the lock released, the commit seen visible, and the process
 * killed. It never read the database's answer, so it never wrote a response. Restarted on the same database,
 * the sender's byte-identical retry gets `duplicate` outcomes, and each record is stored once (I1, I2, I3).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/store/postgres.ts';
import type { Store } from '../../src/store/types.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { type ChildGateway, childGateway } from '../support/child-gateway.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { waitFor } from '../support/delivery.ts';
import { freePorts } from '../support/exchange.ts';
import { decodePayload, postTo } from '../support/gateway.ts';
import { freshSigned } from '../support/records.ts';

const HOLD_LOCK = 58_058;
let admins: TestAdmins;
let db: TestDatabase;
let store: Store;
let cl: ChildGateway;
let holder: pg.Client | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
  const [serverPort, apiPort] = (await freePorts(2)) as [number, number];
  admins = makeAdmins(['PE', 'CL'], {
    edit: (id, raw) => {
      if (id !== 'CL') return;
      raw.server = { ...raw.server, port: serverPort };
      raw.api = { ...raw.api, port: apiPort };
      raw.outbound = { ...raw.outbound, pullIntervalMs: 0, reconcileIntervalMs: 0 };
    },
  });
  cl = childGateway({ configPath: admins.get('CL').configPath, databaseUrl: db.url, serverPort, apiPort });
  store = openPostgres({ connectionString: db.url });
}, 120_000);

afterAll(async () => {
  await holder?.end().catch(() => {});
  await cl?.kill();
  await store?.close();
  await db?.drop();
  admins?.cleanup();
});

const count = async (sql: string, params: unknown[] = []) =>
  Number((await store.query<{ n: string }>(sql, params))[0]?.n);

describe('a crash after commit, before the response', () => {
  it('leaves the batch stored once, and the retry after restart gets duplicate outcomes', async () => {
    await cl.start();
    // Test-only, in this test's database: every COMMIT that inserted a receipt waits for HOLD_LOCK.
    await store.query(
      `CREATE FUNCTION test_hold_commit() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN PERFORM pg_advisory_xact_lock_shared(${HOLD_LOCK}); RETURN NULL; END $$`,
    );
    await store.query(
      `CREATE CONSTRAINT TRIGGER test_hold_commit AFTER INSERT ON inbound_receipt
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_hold_commit()`,
    );
    holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock($1)', [HOLD_LOCK]);

    const { records, jws } = await freshSigned('PE', admins.get('PE').config.home.signers[0]!, 20);
    const body = JSON.stringify({ records: jws });
    const first = postTo(`${cl.url}/mra/v1/records`, body).then(
      (res) => ({ answered: res.status }),
      (error: unknown) => ({ failed: String(error) }),
    );

    // The gateway's COMMIT is waiting on the lock: everything before it is done, nothing after it.
    await waitFor(
      'the COMMIT to wait on the held lock',
      async () => {
        const [row] = await store.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'advisory'
              AND query = 'COMMIT'`,
        );
        return row?.pid;
      },
      60_000,
    );
    cl.freeze();
    await holder.query('SELECT pg_advisory_unlock($1)', [HOLD_LOCK]);
    await waitFor(
      'the commit to be visible',
      async () => ((await count('SELECT count(*)::text AS n FROM inbound_receipt')) === 1 ? true : undefined),
      60_000,
    );
    expect(await count('SELECT count(*)::text AS n FROM inbound_record')).toBe(20);
    await cl.kill();
    // The sender never got a receipt: only a dropped connection.
    expect(await first).toEqual({ failed: expect.any(String) });

    await store.query('DROP TRIGGER test_hold_commit ON inbound_receipt');
    await cl.start();
    const retry = await postTo(`${cl.url}/mra/v1/records`, body);
    expect(retry.status, retry.text.slice(0, 300)).toBe(200);
    const receipt = decodePayload((JSON.parse(retry.text) as { receipt: string }).receipt) as {
      results: { recordId: string; outcome: string }[];
    };
    expect(receipt.results.map((r) => r.outcome)).toEqual(records.map(() => 'duplicate'));
    expect(receipt.results.map((r) => r.recordId)).toEqual(records.map((r) => r.recordId));

    const stored = await store.query<{ record_id: string; n: string }>(
      'SELECT record_id::text, count(*)::text AS n FROM inbound_record GROUP BY record_id',
    );
    expect(new Map(stored.map((r) => [r.record_id, Number(r.n)]))).toEqual(
      new Map(records.map((r) => [r.recordId, 1])),
    );
    expect(await count('SELECT count(*)::text AS n FROM operator_state')).toBe(20);
    await cl.stop();
  }, 300_000);
});
