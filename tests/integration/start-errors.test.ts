/**
 * What an operator reads when the gateway cannot start, from the real command (`main.ts serve` in a process
 * of its own): exit code 2 and one line `mra-gateway: CODE: message` that names the cause, never INTERNAL and
 * never a password. A database that is not reachable yet is waited for, and the log names host:port and why.
 * A listener's "listening at" line shows the scheme it really speaks (https with TLS).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { RawConfig } from '../../src/config/raw.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { freePorts } from '../support/exchange.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PASSWORD = 'n0t-to-be-printed-7f3a';

let admins: TestAdmins;
let tlsAdmins: TestAdmins;
let db: TestDatabase;
const children: ChildProcess[] = [];

beforeAll(async () => {
  admins = makeAdmins(['PE', 'CL']);
  tlsAdmins = makeAdmins(['PE', 'CL'], { mtls: true });
  db = await createTestDatabase();
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await db?.drop();
  admins?.cleanup();
  tlsAdmins?.cleanup();
});

/** PE's configuration, edited, on two free ports; answers its path. */
async function configOf(from: TestAdmins, edit: (raw: RawConfig) => void = () => {}): Promise<string> {
  const raw = parse(readFileSync(from.get('PE').configPath, 'utf8')) as RawConfig;
  const [server, api] = await freePorts(2);
  raw.server = { ...raw.server, port: server! };
  raw.api = { ...raw.api, port: api! };
  raw.redis = {
    ...raw.redis,
    prefix: `mra-start-errors-${process.pid}-${Math.random().toString(36).slice(2)}`,
  };
  edit(raw);
  const path = join(from.dir, `start-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, stringify(raw));
  return path;
}

interface Run {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function serve(configPath: string, env: Record<string, string | undefined>): Run {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info', ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  const child = spawn(process.execPath, ['src/cli/main.ts', 'serve', '--config', configPath], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString('utf8');
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

/** Exits within the bound; answers the one stderr line. */
async function failsWith(run: Run): Promise<string> {
  const bound = setTimeout(() => run.child.kill('SIGKILL'), 90_000);
  const code = await run.exited;
  clearTimeout(bound);
  expect(code, run.err() + run.out()).toBe(2);
  const lines = run.err().trim().split('\n');
  expect(lines, run.err()).toHaveLength(1);
  expect(lines[0]).not.toContain('INTERNAL');
  expect(run.err() + run.out()).not.toContain(PASSWORD);
  return lines[0]!;
}

async function until(run: Run, pattern: RegExp, ms = 90_000): Promise<string> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const m = pattern.exec(run.out());
    if (m) return m[0];
    if (run.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${pattern} in the output:\n${run.out()}\n${run.err()}`);
}

async function stop(run: Run): Promise<void> {
  if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGTERM');
  const bound = setTimeout(() => run.child.kill('SIGKILL'), 20_000);
  await run.exited;
  clearTimeout(bound);
}

const dbUrl = (edit: (u: URL) => void) => {
  const u = new URL(db.url);
  edit(u);
  return u.toString();
};

describe('a gateway that cannot start says why', () => {
  it('a missing key file: the configuration file, the field, the path and "no such file"', async () => {
    const missing = join(admins.dir, 'keys', 'signing.key');
    const path = await configOf(admins, (raw) => (raw.home.signing[0]!.key = { file: missing }));
    const line = await failsWith(serve(path, { DATABASE_URL: db.url }));
    expect(line).toBe(
      `mra-gateway: CONFIG_INVALID: configuration: ${path}: /home/signing/0/key: cannot read ${missing}: no such file`,
    );
  }, 120_000);

  it('a partner endpoint without /mra/v1: refused at load, naming the field', async () => {
    const path = await configOf(admins, (raw) => (raw.partners[0]!.endpoint = 'http://127.0.0.1:9/'));
    const line = await failsWith(serve(path, { DATABASE_URL: db.url }));
    expect(line).toMatch(/^mra-gateway: CONFIG_INVALID: .*\/partners\/0\/endpoint: .* ending in \/mra\/v1/);
  }, 120_000);

  it('a port in use: LISTEN_FAILED naming host and port', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const path = await configOf(admins, (raw) => (raw.server = { ...raw.server, port }));
      const line = await failsWith(serve(path, { DATABASE_URL: db.url }));
      expect(line).toBe(`mra-gateway: LISTEN_FAILED: cannot listen on 127.0.0.1:${port}: address in use`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  }, 120_000);

  it('a missing database: STORE_REFUSED naming host, port, database and the server reason', async () => {
    const url = dbUrl((u) => {
      u.pathname = '/mra_no_such_database';
      u.password = PASSWORD;
    });
    const line = await failsWith(serve(await configOf(admins), { DATABASE_URL: url }));
    const { hostname, port } = new URL(db.url);
    expect(line).toContain(
      `mra-gateway: STORE_REFUSED: the database server refused ${hostname}:${port || 5432}`,
    );
    expect(line).toContain('database mra_no_such_database');
    expect(line).toContain('no such database');
    expect(line).toContain('"mra_no_such_database" does not exist');
  }, 120_000);

  it('a missing role: STORE_REFUSED naming the user, never the password', async () => {
    const url = dbUrl((u) => {
      u.username = 'mra_no_such_role';
      u.password = PASSWORD;
    });
    const line = await failsWith(serve(await configOf(admins), { DATABASE_URL: url }));
    expect(line).toContain('mra-gateway: STORE_REFUSED: the database server refused');
    expect(line).toContain('user mra_no_such_role');
    expect(line).toContain('role "mra_no_such_role" does not exist');
  }, 120_000);

  it('a database not reachable: waits, logging host:port and the cause', async () => {
    const [closed] = await freePorts(1);
    const url = `postgres://mra:${PASSWORD}@127.0.0.1:${closed}/aeo`;
    const run = serve(await configOf(admins), { DATABASE_URL: url });
    try {
      const line = await until(run, /"msg":"[^"]*is not reachable[^"]*"/);
      expect(line).toContain(`127.0.0.1:${closed}, database aeo, user mra`);
      expect(line).toContain('ECONNREFUSED');
      expect(line).toContain('waiting');
      expect(run.child.exitCode).toBeNull();
      expect(run.out() + run.err()).not.toContain(PASSWORD);
    } finally {
      await stop(run);
    }
  }, 120_000);
});

describe('the listening lines', () => {
  it('show https for the TLS listener and http for the plain API listener', async () => {
    const path = await configOf(tlsAdmins);
    const raw = parse(readFileSync(path, 'utf8')) as RawConfig;
    const run = serve(path, { DATABASE_URL: db.url });
    try {
      await until(run, /"msg":"gateway listening"/);
      const lines = run
        .out()
        .split('\n')
        .filter((l) => /listening at/i.test(l));
      expect(
        lines.some((l) => l.includes(`https://127.0.0.1:${raw.server!.port}`)),
        run.out(),
      ).toBe(true);
      expect(
        lines.some((l) => l.includes(`http://127.0.0.1:${raw.api!.port}`)),
        run.out(),
      ).toBe(true);
      expect(run.out()).not.toContain(`http://127.0.0.1:${raw.server!.port}`);
    } finally {
      await stop(run);
    }
    expect(await run.exited).toBe(0);
  }, 120_000);
});
