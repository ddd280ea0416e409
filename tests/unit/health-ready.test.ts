/**
 * /health/ready answers for anyone, unlimited: a probe storm costs one store ping and one Redis check per
 * second (routes/health.ts), one check in flight at a time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createBaseApp } from '../../src/http/base-app.ts';
import { READINESS_CACHE_MS, registerHealthRoutes } from '../../src/http/routes/health.ts';
import { createLogger } from '../../src/log.ts';
import type { Store } from '../../src/store/types.ts';

const apps: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function readyApp(database: () => Promise<boolean>, redis: () => Promise<boolean>) {
  const app = await createBaseApp({
    log: createLogger('silent'),
    trustProxy: false,
    rateLimitPerMinute: 1_000,
    serverFactory: undefined,
  });
  apps.push(app);
  registerHealthRoutes(app, { ping: database } as unknown as Store, redis);
  return app;
}

describe('GET /health/ready', () => {
  it('checks once for a burst of probes, and again once the result is older than the cache', async () => {
    let pings = 0;
    let redisChecks = 0;
    let up = true;
    const app = await readyApp(
      async () => {
        pings += 1;
        await new Promise((r) => setTimeout(r, 50));
        return up;
      },
      async () => {
        redisChecks += 1;
        return true;
      },
    );
    const burst = await Promise.all(
      Array.from({ length: 50 }, () => app.inject({ method: 'GET', url: '/health/ready' })),
    );
    expect(burst.every((r) => r.statusCode === 200)).toBe(true);
    expect(burst[0]!.json()).toEqual({ status: 'ready', database: true, redis: true });
    expect([pings, redisChecks]).toEqual([1, 1]);

    up = false;
    // Once the cached result is older than the cache time, the next probe checks again and sees the change.
    await new Promise((r) => setTimeout(r, READINESS_CACHE_MS + 100));
    const later = await app.inject({ method: 'GET', url: '/health/ready' });
    expect(later.statusCode).toBe(503);
    expect(later.json()).toEqual({ status: 'not-ready', database: false, redis: true });
    expect(pings).toBe(2);
  });
});
