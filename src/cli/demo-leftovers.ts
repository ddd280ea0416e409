/**
 * What a demo run leaves behind, and its use of Redis, which carries pushes to partners and webhooks. A run's
 * stores are its own folder (data/<pid>), removed when it stops; each run first removes those of earlier runs
 * whose process is gone. Whether Redis is running, and the keys of each run. A run's queues live under its own prefix (`mra-demo-<pid>-<adminId>`), so a demo left running
 * and another run beside it never share a queue; a run removes its keys when it stops, and each run first
 * removes those of earlier runs whose process is gone (a run killed outright).
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { RedisSettings } from '../config/types.ts';
import { closeRedis, createRedis, waitForReady } from '../queue/connection.ts';
import { withTimeout } from '../queue/timeout.ts';
import { alive } from '../store/lock-holder.ts';

const DEMO_PREFIX = 'mra-demo';
/** Bound on the keys one clean-up looks at (a demo run makes a few dozen). */
const MAX_KEYS_SCANNED = 100_000;
const WAIT_MS = 1_500;

/** The queue prefix of `adminId`'s gateway in the run of process `pid`. */
export function demoPrefix(adminId: string, pid = process.pid): string {
  return `${DEMO_PREFIX}-${pid}-${adminId}`;
}

/** host:port of a Redis URL, without its credentials. */
export function redisAddress(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '6379'}`;
  } catch {
    return 'the configured address';
  }
}

/** True when Redis at `settings.url` accepts a connection within a moment. */
export async function redisRunning(settings: RedisSettings): Promise<boolean> {
  const redis = createRedis(settings, 'producer');
  try {
    return await waitForReady(redis, WAIT_MS);
  } finally {
    await closeRedis(redis, 1_000);
  }
}

/**
 * Removes the demo's keys that `owned` says are to go (by the pid in their prefix); answers how many. Does
 * nothing when Redis is not running. Bounded in keys scanned and in time per command.
 */
export async function removeDemoKeys(
  settings: RedisSettings,
  owned: (pid: number | undefined) => boolean,
): Promise<number> {
  const redis = createRedis(settings, 'producer');
  let removed = 0;
  try {
    if (!(await waitForReady(redis, WAIT_MS))) return 0;
    let cursor = '0';
    let scanned = 0;
    do {
      const [next, keys] = await withTimeout(
        redis.scan(cursor, 'MATCH', `${DEMO_PREFIX}-*`, 'COUNT', 500),
        settings.commandTimeoutMs,
        'SCAN',
      );
      cursor = next;
      scanned += keys.length;
      const mine = keys.filter((key) => owned(pidOf(key)));
      if (mine.length > 0) {
        removed += await withTimeout(redis.unlink(...mine), settings.commandTimeoutMs, 'UNLINK');
      }
    } while (cursor !== '0' && scanned < MAX_KEYS_SCANNED);
    return removed;
  } finally {
    await closeRedis(redis, 1_000);
  }
}

/** The pid of a run's key (`mra-demo-<pid>-PE:…`); undefined for the keys of the layout before it. */
function pidOf(key: string): number | undefined {
  const match = /^mra-demo-(\d+)-/.exec(key);
  return match === null ? undefined : Number(match[1]);
}

/** Removes the stores of earlier runs whose process is gone (and those of the layout before data/<pid>). */
export function removeStaleData(root: string): void {
  if (!existsSync(root)) return;
  for (const name of readdirSync(root)) {
    const pid = /^\d+$/.test(name) ? Number(name) : undefined;
    if (pid !== undefined && pid !== process.pid && alive(pid)) continue;
    rmSync(join(root, name), { recursive: true, force: true });
  }
}
