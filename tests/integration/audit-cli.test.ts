/**
 * The commands `audit verify` and `retention run`, as an operator runs them: a real process on the
 * configuration file, against PostgreSQL, with the exit codes the documentation promises (0 intact,
 * 1 broken with the link named, 2 cannot run).
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAction, appendAuditMany } from '../../src/audit/chain.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/types.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

let admins: TestAdmins;
let db: TestDatabase;
let store: Store;

beforeAll(async () => {
  admins = makeAdmins(['PE']);
  db = await createTestDatabase();
  store = await openStore({ kind: 'postgres', databaseUrl: db.url });
  await store.transaction((tx) =>
    appendAuditMany(tx, [
      adminAction('national-aeo', 'first', { action: 'test', n: 1 }),
      adminAction('national-aeo', 'second', { action: 'test', n: 2 }),
    ]),
  );
});
afterAll(async () => {
  await store?.close();
  await db?.drop();
  admins?.cleanup();
});

function gateway(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['src/cli/main.ts', ...args],
      { env: { ...process.env, DATABASE_URL: db.url }, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('the audit and retention commands', () => {
  it('retention run chains its counts, and audit verify exits 0 on the intact chain', async () => {
    const config = admins.get('PE').configPath;
    const retention = await gateway('retention', 'run', '--config', config);
    expect(retention.code, retention.stderr).toBe(0);
    expect(JSON.parse(retention.stdout)).toMatchObject({ foreignOperators: 0, homeOperators: 0 });
    const verified = await gateway('audit', 'verify', '--config', config);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/audit chain intact: 3 entries, head [0-9a-f]{64}/);
  });

  it('exits 1 naming the first broken link', async () => {
    await store.query("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2");
    const verified = await gateway('audit', 'verify', '--config', admins.get('PE').configPath);
    expect(verified.code).toBe(1);
    expect(verified.stderr).toMatch(/audit_log, seq 2 \(admin-action, subject second\): hash differs/);
  });

  it('exits 2 when it cannot run', async () => {
    const verified = await gateway('audit', 'verify', '--config', `${admins.dir}/missing.yaml`);
    expect(verified.code).toBe(2);
    expect(verified.stderr).toMatch(/mra-gateway: /);
  });
});
