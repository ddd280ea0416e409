/**
 * Redis faults as an operator would cause them, against a private redis-server (redis-server.ts): `SHUTDOWN
 * NOSAVE` through redis-cli (every job lost, docs/threats.md 54) and `CLIENT PAUSE` (every client waits, 56).
 */
import { execFileSync } from 'node:child_process';
import type { RedisServer } from './redis-server.ts';

export function redisCli(port: number, ...args: string[]): string {
  return execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    encoding: 'utf8',
    timeout: 10_000,
  }).trim();
}

/** SHUTDOWN NOSAVE: the server exits without writing anything; resolves once it is gone. */
export async function shutdownNoSave(server: RedisServer): Promise<void> {
  try {
    redisCli(server.port, 'SHUTDOWN', 'NOSAVE');
  } catch {
    // redis-cli reports the dropped connection of a server that shut down
  }
  await server.kill();
}

/** CLIENT PAUSE `ms` ALL: every client's commands wait until the pause ends. */
export function clientPause(port: number, ms: number): void {
  const answer = redisCli(port, 'CLIENT', 'PAUSE', String(ms), 'ALL');
  if (answer !== 'OK') throw new Error(`CLIENT PAUSE answered ${answer}`);
}
