/**
 * A stop writes the lookup read model's snapshot first, and cuts short the runs over every operator rather than
 * wait for them. A monitoring summaries issue or a retention run reads every operator and takes tens of seconds
 * at a million; a stop that waited for it was killed by its supervisor's grace period (10 s in a container by
 * default), before the snapshot at first, and the next start fell back to reading the evidence (about a minute per
 * million operators). Here the retention run, which starts once the read model is loaded, is held on a table lock
 * taken before the gateway starts: the stop must end with the lock still held, the snapshot in PostgreSQL and the
 * run rolled back. And while the snapshot is written (held on a lock of its own table), no new request is taken.
 */
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../src/config/types.ts';
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
  async function started(locked: string | undefined) {
    const admins = makeAdmins(['PE', 'CL'], { env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    disposals.push(async () => admins.cleanup());
    const { store, dispose } = await openTestStore('postgres');
    disposals.push(dispose);
    const lock = locked === undefined ? undefined : await holdLock(store, locked);
    if (lock !== undefined) disposals.push(() => lock.release());
    const lines: Record<string, unknown>[] = [];
    const config: GatewayConfig = admins.get('PE').config;
    const gateway: Gateway = await startGateway(config, {
      store,
      log: createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) }),
      onceTimers: true,
    });
    await gateway.readModelLoaded;
    return { store, gateway, lines };
  }

  it('writes the snapshot, and cuts a retention run in progress short instead of waiting for it', async () => {
    const { store, gateway, lines } = await started(HELD);
    await waitFor('the retention run held on the lock', () => waitingOn(store, HELD), 30_000);
    expect(await snapshotRows(store)).toBe(0);
    // The lock is still held when the stop ends: the run was cancelled, not waited for.
    await gateway.close();
    expect(await snapshotRows(store)).toBeGreaterThan(0);
    expect(await waitingOn(store, HELD)).toBeUndefined();
    const [audit] = await store.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM audit_log WHERE kind = 'retention'",
    );
    expect(Number(audit?.n)).toBe(0);
    expect(lines.map((l) => l.msg)).toContain(
      'retention run stopped with the gateway; it runs again at the next start',
    );
    expect(lines.filter((l) => l.msg === 'retention run failed; tried again at the next interval')).toEqual(
      [],
    );
  }, 90_000);

  it('takes no new request while the snapshot is written', async () => {
    const { store, gateway } = await started(undefined);
    // The snapshot's table held: the stop waits in its first step, its listeners already refusing.
    const lock = await holdLock(store, 'read_model_snapshot');
    disposals.push(() => lock.release());
    let stopped = false;
    const stopping = gateway.close().then(() => {
      stopped = true;
    });
    await waitFor('the snapshot held on the lock', () => waitingOn(store, 'read_model_snapshot'), 30_000);
    expect(stopped).toBe(false);
    // docs/threats.md 65: 503, or the listener already closed.
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
    expect(await snapshotRows(store)).toBeGreaterThan(0);
  }, 90_000);
});
