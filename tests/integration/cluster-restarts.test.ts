/**
 * The primary of a cluster (src/cluster/primary.ts) starts a worker that dies again, with a growing delay, and
 * stops the gateway (exit 1) when workers keep dying: after `max` restarts within the window the next death
 * ends it, instead of starting workers for ever. The workers here are stand-ins that say they listen and die.
 */
import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPrimary } from '../../src/cluster/primary.ts';
import { createLogger } from '../../src/log.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';

let admins: TestAdmins;
beforeAll(() => {
  admins = makeAdmins(['PE', 'CL']);
  cluster.setupPrimary({ exec: fileURLToPath(new URL('../support/crash-worker.ts', import.meta.url)) });
});
afterAll(() => admins.cleanup());

describe('a worker that keeps dying', () => {
  it('is started again at most `max` times in the window, then the primary exits 1', async () => {
    const lines: { msg: string; delayMs?: number }[] = [];
    const log = createLogger('info', {
      write: (line: string) => {
        lines.push(JSON.parse(line) as { msg: string; delayMs?: number });
      },
    });
    const printed: string[] = [];
    const code = await runPrimary({
      config: admins.get('PE').config,
      processes: 1,
      log,
      print: (line) => printed.push(line),
      restarts: { max: 3, windowMs: 60_000, firstDelayMs: 10, maxDelayMs: 25 },
    });
    expect(code).toBe(1);
    const restarts = lines.filter((l) => l.msg === 'gateway process exited unexpectedly; starting another');
    expect(restarts).toHaveLength(3);
    // The delay grows, and is bounded.
    expect(restarts.map((l) => l.delayMs)).toEqual([10, 20, 25]);
    expect(lines.some((l) => l.msg === 'gateway processes keep failing; stopping')).toBe(true);
    expect(printed).toEqual([]);
    expect(Object.keys(cluster.workers ?? {})).toHaveLength(0);
  }, 60_000);
});
