/**
 * A stop writes the lookup read model's snapshot before it waits for the work in progress. A monitoring summaries
 * pass or a retention run reads every operator and takes seconds at a million; a stop that waited for it first
 * was killed by its supervisor's grace period (10 s in a container by default) before the snapshot, and the next
 * start fell back to reading the evidence (about a minute per million operators). Here the retention run, which
 * starts once the read model is loaded, is held on a table lock taken before the gateway starts: the snapshot must
 * be in PostgreSQL while the stop still waits for the run, and no new request may be taken meanwhile.
 */
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../src/gateway.ts';
import { createLogger } from '../../src/log.ts';
import type { Store } from '../../src/store/types.ts';
import { makeAdmins } from '../support/admins.ts';
import { waitFor } from '../support/delivery.ts';
import { openTestStore } from '../support/gateway.ts';

const HELD = 'home_operator';
const disposals: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const d of disposals.reverse()) await d();
});

/** Holds `LOCK TABLE … ACCESS EXCLUSIVE` on one connection of the store until `release` is called. */
async function holdLock(store: Store, table: string): Promise<{ release(): Promise<void> }> {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let locked: () => void = () => {};
  const isLocked = new Promise<void>((resolve) => {
    locked = resolve;
  });
  const held = store.transaction(async (tx) => {
    await tx.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
    locked();
    await released;
  });
  await isLocked;
  return {
    async release() {
      release();
      await held;
    },
  };
}

const waitingOn = async (store: Store, table: string) => {
  const [row] = await store.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
      WHERE c.relname = $1 AND NOT l.granted`,
    [table],
  );
  return Number(row?.n ?? 0) > 0 ? true : undefined;
};

const snapshotRows = async (store: Store) => {
  const [row] = await store.query<{ n: string }>('SELECT count(*)::text AS n FROM read_model_snapshot');
  return Number(row?.n ?? 0);
};

describe('a stop and the read model snapshot', () => {
  it('writes the snapshot before it waits for a retention run in progress', async () => {
    const admins = makeAdmins(['PE', 'CL'], { env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    disposals.push(async () => admins.cleanup());
    const { store, dispose } = await openTestStore('postgres');
    disposals.push(dispose);
    // The retention run reaches home_operator; nothing of the start or of the snapshot does.
    const lock = await holdLock(store, HELD);
    disposals.push(() => lock.release());
    const gateway: Gateway = await startGateway(admins.get('PE').config, {
      store,
      log: createLogger('silent'),
      onceTimers: true,
    });
    await gateway.readModelLoaded;
    await waitFor('the retention run held on the lock', () => waitingOn(store, HELD), 30_000);
    expect(await snapshotRows(store)).toBe(0);

    let stopped = false;
    const stopping = gateway.close().then(() => {
      stopped = true;
    });
    await waitFor(
      'the snapshot written',
      async () => ((await snapshotRows(store)) > 0 ? true : undefined),
      30_000,
    );
    // Still waiting for the run: the snapshot came first.
    expect(stopped).toBe(false);
    expect(await waitingOn(store, HELD)).toBe(true);
    // And no new request is taken meanwhile (docs/threats.md 65): 503, or the listener already closed.
    for (const url of [`${gateway.apiUrl}/health/ready`, `${gateway.url}/.well-known/mra-gateway`]) {
      const status = await request(url).then(
        async (res) => {
          await res.body.dump();
          return res.statusCode;
        },
        (error: unknown) => (error as { code?: string }).code,
      );
      expect(['ECONNREFUSED', 503]).toContain(status);
    }

    await lock.release();
    await stopping;
    expect(stopped).toBe(true);
  }, 90_000);
});
