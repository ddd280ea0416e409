/**
 * A cluster that cannot start (src/cluster/primary.ts): the error is printed once, whatever the number of
 * workers, every process is gone, and `serve` exits with the command line's code for it (2, cannot run) instead
 * of starting workers again and again.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestAdmins } from '../support/admins.ts';
import { running, spawnCluster } from '../support/cluster-gateway.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { freePorts, makeLinkedAdmins } from '../support/exchange.ts';

let db: TestDatabase;
let admins: TestAdmins;
let apiPort: number;

beforeAll(async () => {
  db = await createTestDatabase();
  [apiPort] = (await freePorts(1)) as [number];
  admins = await makeLinkedAdmins(['PE', 'CL'], {
    redis: true,
    edit: (id, raw) => {
      if (id === 'PE') raw.api = { ...raw.api, port: apiPort };
    },
  });
}, 60_000);

afterAll(async () => {
  await db?.drop();
  admins?.cleanup();
});

const lines = (text: string, code: string) => text.split('\n').filter((l) => l.includes(code));

describe('a cluster that cannot start', () => {
  it('refuses two processes on the embedded store: CONFIG_INVALID, exit 2, no worker forked', async () => {
    const gw = spawnCluster({ configPath: admins.get('PE').configPath, processes: 2 });
    const { code } = await gw.exited;
    expect(code).toBe(2);
    const refused = lines(gw.stderr(), 'CONFIG_INVALID');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toContain('--processes');
    expect(refused[0]).toContain('embedded store');
    expect(gw.logs.filter((l) => typeof l.worker === 'number')).toHaveLength(0);
  });

  it('a port taken: LISTEN_FAILED printed once for both workers, every process gone, exit 2', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(apiPort, '127.0.0.1', resolve));
    try {
      const gw = spawnCluster({
        configPath: admins.get('PE').configPath,
        databaseUrl: db.url,
        processes: 2,
      });
      const seen = new Set<number>();
      const watch = setInterval(() => {
        for (const pid of gw.workerPids()) seen.add(pid);
      }, 20);
      const { code } = await gw.exited;
      clearInterval(watch);
      expect(code).toBe(2);
      const failed = lines(gw.stderr(), 'LISTEN_FAILED');
      expect(failed).toHaveLength(1);
      expect(failed[0]).toContain(`127.0.0.1:${apiPort}`);
      expect([...seen].every((pid) => !running(pid))).toBe(true);
      // No worker was started again after the failure at start.
      expect(gw.logs.some((l) => l.msg === 'gateway process exited unexpectedly; starting another')).toBe(
        false,
      );
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
    // Each worker composes the gateway (migrations, read model, queues) before it meets the port: long on a
    // loaded machine.
  }, 240_000);
});
