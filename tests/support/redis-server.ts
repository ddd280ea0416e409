/**
 * A private redis-server on a loopback port, for the tests that stop, restart or misconfigure Redis without
 * touching the machine's shared one: no persistence (a restart loses every job, docs/threats.md 54), started and
 * killed by the test, every wait bounded.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REDIS_SERVER = (() => {
  try {
    return execFileSync('which', ['redis-server'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
})();

export interface RedisServer {
  port: number;
  url: string;
  /** SIGKILL: nothing is saved, clients see the connection drop. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: connections stay open and nothing answers (docs/threats.md 56). */
  pause(): void;
  resume(): void;
}

export async function startRedisServer(port: number, policy = 'noeviction'): Promise<RedisServer> {
  if (REDIS_SERVER === undefined) throw new Error('redis-server is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'mra-redis-server-'));
  const child: ChildProcess = spawn(
    REDIS_SERVER,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory',
      '64mb',
      '--maxmemory-policy',
      policy,
      '--dir',
      dir,
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForPong(port, 5_000).catch(async (error: unknown) => {
    child.kill('SIGKILL');
    await exited;
    throw error;
  });
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    async kill() {
      child.kill('SIGCONT');
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Sends PING on a raw socket until +PONG comes back, at most `timeoutMs`. */
async function waitForPong(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 500 && Date.now() < deadline; i += 1) {
    const pong = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
      socket.setTimeout(200, () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('+PONG'));
      });
      socket.once('error', () => resolve(false));
    });
    if (pong) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms`);
}
