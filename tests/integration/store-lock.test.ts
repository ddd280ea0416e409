/**
 * docs/threats.md 77: two gateway processes on one embedded data folder. The second is refused at start with
 * STORE_LOCKED, naming the first (pid, since when), before it touches the store; the first keeps working and
 * loses nothing (write, stop, reopen, read). A lock left by a process that is gone is taken over with a log line;
 * one written from another host is honoured while its holder keeps touching it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { sampleRecord } from '../../src/cli/samples.ts';
import { writeConfig } from '../../src/cli/setup.ts';
import type { RawConfig } from '../../src/config/raw.ts';
import { GatewayError } from '../../src/errors.ts';
import { LOCK_FILE, lockDataDir, STALE_AFTER_MS } from '../../src/store/data-dir-lock.ts';
import { type LockHolder, thisProcess } from '../../src/store/lock-holder.ts';
import { openStore } from '../../src/store/open.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { freePorts } from '../support/exchange.ts';
import { httpRequest, postTo } from '../support/gateway.ts';
import { signAll } from '../support/records.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Bounds on a child process starting or stopping; generous, for a loaded machine. */
const START_MS = 60_000;

let admins: TestAdmins;
let dir: string;
let dataDir: string;
let serverPort: number;
let apiPort: number;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mra-lock-'));
  dataDir = join(dir, 'data');
  [serverPort, apiPort] = (await freePorts(2)) as [number, number];
  admins = makeAdmins(['PE', 'CL'], {
    edit: (id, raw) => {
      if (id !== 'CL') return;
      raw.server = { ...raw.server, port: serverPort };
      raw.api = { ...raw.api, port: apiPort };
      raw.storage = { dataDir };
      raw.outbound = { pullIntervalMs: 0, reconcileIntervalMs: 0 };
    },
  });
}, 180_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  admins?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

interface Served {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** `serve` with CL's configuration, or `configPath`. */
function serve(configPath = admins.get('CL').configPath): Served {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info' };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, ['src/cli/main.ts', 'serve', '--config', configPath], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return { child, output: () => output, exited };
}

async function ready(served: Served): Promise<void> {
  const deadline = Date.now() + START_MS;
  for (;;) {
    if (served.child.exitCode !== null)
      throw new Error(`the gateway exited: ${served.output().slice(-2000)}`);
    const up = await httpRequest(`http://127.0.0.1:${apiPort}/health/ready`, { method: 'GET' }).catch(
      () => undefined,
    );
    if (up?.status === 200) return;
    if (Date.now() > deadline) throw new Error(`the gateway did not start: ${served.output().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stop(served: Served): Promise<number | null> {
  served.child.kill('SIGTERM');
  const code = await Promise.race([served.exited, new Promise((r) => setTimeout(() => r('hung'), START_MS))]);
  expect(code).not.toBe('hung');
  return code as number | null;
}

async function sendOne(n: number): Promise<string> {
  const record = sampleRecord('PE', 700_000 + n);
  const jws = await signAll([record], admins.get('PE').config.home.signers[0]!);
  const res = await postTo(`http://127.0.0.1:${serverPort}/mra/v1/records`, { records: jws });
  expect(res.status, res.text.slice(0, 300)).toBe(200);
  return record.recordId;
}

async function storedRecordIds(): Promise<string[]> {
  const store = await openStore({ kind: 'embedded', dataDir });
  try {
    const rows = await store.query<{ record_id: string }>(
      'SELECT record_id FROM inbound_record ORDER BY record_id',
    );
    return rows.map((r) => r.record_id);
  } finally {
    await store.close();
  }
}

const lockPath = () => join(dataDir, LOCK_FILE);

describe('two gateway processes on one embedded data folder (docs/threats.md 77)', () => {
  it('refuses the second at start, naming the first; the first keeps working and loses nothing', async () => {
    const first = serve();
    await ready(first);
    const holder = JSON.parse(readFileSync(lockPath(), 'utf8')) as LockHolder;
    expect(holder.pid).toBe(first.child.pid);
    const written = [await sendOne(1)];

    // Other ports: what refuses the second process is the folder's lock, not a port in use.
    const [otherServer, otherApi] = await freePorts(2);
    const config = parseYaml(readFileSync(admins.get('CL').configPath, 'utf8')) as RawConfig;
    const secondPath = join(admins.dir, 'CL-second.yaml');
    writeConfig(secondPath, {
      ...config,
      server: { ...config.server, port: otherServer! },
      api: { ...config.api, port: otherApi! },
    });
    // Opening a PGlite folder rewrites its postmaster.pid: unchanged means the second never opened the store.
    const pidFile = join(dataDir, 'postmaster.pid');
    const before = { text: readFileSync(pidFile, 'utf8'), mtimeMs: statSync(pidFile).mtimeMs };
    const second = serve(secondPath);
    const code = await Promise.race([
      second.exited,
      new Promise((r) => setTimeout(() => r('hung'), START_MS)),
    ]);
    expect(code).not.toBe(0);
    expect(code).not.toBe('hung');
    expect(second.output()).toContain('STORE_LOCKED');
    expect(second.output()).toContain(`pid ${first.child.pid}`);
    expect(second.output()).toContain(holder.startedAt);
    expect({ text: readFileSync(pidFile, 'utf8'), mtimeMs: statSync(pidFile).mtimeMs }).toEqual(before);
    // The lock is still the first process's, and the first still serves and stores.
    expect(JSON.parse(readFileSync(lockPath(), 'utf8'))).toEqual(holder);
    written.push(await sendOne(2));

    expect(await stop(first)).toBe(0);
    expect(existsSync(lockPath())).toBe(false);
    expect(await storedRecordIds()).toEqual(written.sort());
  }, 180_000);

  it('takes over a lock whose process is gone, with a log line', async () => {
    const dead = spawn(process.execPath, ['-e', '']);
    const deadPid = dead.pid!;
    await new Promise((r) => dead.once('exit', r));
    const stale: LockHolder = { ...thisProcess(), pid: deadPid, startedAt: '2026-01-01T00:00:00.000Z' };
    delete stale.processStart;
    writeFileSync(lockPath(), `${JSON.stringify(stale)}\n`);

    const gateway = serve();
    await ready(gateway);
    expect(gateway.output()).toContain('took over the lock of a gateway process that is gone');
    expect(gateway.output()).toContain(`"pid":${deadPid}`);
    expect((JSON.parse(readFileSync(lockPath(), 'utf8')) as LockHolder).pid).toBe(gateway.child.pid);
    const id = await sendOne(3);
    expect(await stop(gateway)).toBe(0);
    expect(await storedRecordIds()).toContain(id);
  }, 180_000);
});

describe('the lock file on its own', () => {
  const other = (): LockHolder => ({
    pid: 4242,
    hostname: 'another-host.example',
    startedAt: '2026-01-01T00:00:00.000Z',
  });

  it('honours a lock from another host while it is touched, and takes it over once it is not', () => {
    const folder = mkdtempSync(join(tmpdir(), 'mra-lock-unit-'));
    try {
      const path = join(folder, LOCK_FILE);
      writeFileSync(path, JSON.stringify(other()));
      const refused = (() => {
        try {
          lockDataDir(folder).release();
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      expect(refused).toBeInstanceOf(GatewayError);
      expect((refused as GatewayError).code).toBe('STORE_LOCKED');
      expect((refused as GatewayError).message).toContain('pid 4242 on host another-host.example');

      const old = new Date(Date.now() - STALE_AFTER_MS - 60_000);
      utimesSync(path, old, old);
      const taken: string[] = [];
      const lock = lockDataDir(folder, { onTakeover: (h, why) => taken.push(`${h.hostname}: ${why}`) });
      expect(taken).toHaveLength(1);
      expect(taken[0]).toMatch(/^another-host\.example: not touched for \d+ s$/);
      expect((JSON.parse(readFileSync(path, 'utf8')) as LockHolder).pid).toBe(process.pid);
      // Twice in one process is refused too.
      expect(() => lockDataDir(folder)).toThrow(/already open in this process/);
      lock.release();
      expect(existsSync(path)).toBe(false);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('knows one folder under another spelling, and names a folder it cannot use', () => {
    const folder = mkdtempSync(join(tmpdir(), 'mra-lock-unit-'));
    try {
      mkdirSync(join(folder, 'real'));
      symlinkSync(join(folder, 'real'), join(folder, 'link'));
      const lock = lockDataDir(join(folder, 'link'));
      expect(() => lockDataDir(join(folder, 'real'))).toThrow(/already open in this process/);
      lock.release();
      writeFileSync(join(folder, 'file'), '');
      expect(() => lockDataDir(join(folder, 'file', 'data'))).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID' }),
      );
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('refuses a lock file it did not write, and never removes it', () => {
    const folder = mkdtempSync(join(tmpdir(), 'mra-lock-unit-'));
    try {
      writeFileSync(join(folder, LOCK_FILE), 'not json');
      expect(() => lockDataDir(folder)).toThrow(/is not a gateway lock/);
      expect(readFileSync(join(folder, LOCK_FILE), 'utf8')).toBe('not json');
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
