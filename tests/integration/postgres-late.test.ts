/**
 * docs/threats.md 68: PostgreSQL starts after the gateway. The gateway waits without exiting; meanwhile its API
 * listener is alive and not ready, and answers anything else 503 with Retry-After; once the database is up
 * it migrates, loads and serves. On a private PostgreSQL server that is stopped before the gateway starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../src/config/types.ts';
import { type Gateway, startGateway } from '../../src/gateway.ts';
import { createLogger } from '../../src/log.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { freePorts } from '../support/exchange.ts';
import { expectProblem, httpRequest } from '../support/gateway.ts';
import { type PrivatePostgres, startPrivatePostgres } from '../support/private-postgres.ts';

const GET = { method: 'GET' } as const;
let pg: PrivatePostgres;
let admins: TestAdmins;
let gateway: Gateway | undefined;

beforeAll(async () => {
  pg = await startPrivatePostgres();
  pg.stop();
  admins = makeAdmins(['PE', 'CL'], {
    edit: (_id, raw) => (raw.outbound = { pullIntervalMs: 0, reconcileIntervalMs: 0 }),
  });
}, 180_000);
afterAll(async () => {
  await gateway?.close();
  pg?.close();
  admins?.cleanup();
});

describe('PostgreSQL starting after the gateway', () => {
  it('is waited for, alive and not ready, then served', async () => {
    const [apiPort] = await freePorts(1);
    const loaded = admins.get('CL').config;
    const config: GatewayConfig = {
      ...loaded,
      storage: { kind: 'postgres', databaseUrl: pg.url },
      api: { ...loaded.api, port: apiPort! },
    };
    let failed: unknown;
    const starting = startGateway(config, { log: createLogger('silent'), storeRetryMs: 100 }).then(
      (g) => {
        gateway = g;
        return g;
      },
      (error: unknown) => {
        failed = error;
        return undefined;
      },
    );
    const api = `http://127.0.0.1:${apiPort}`;
    const deadline = Date.now() + 60_000;
    let ready = await httpRequest(`${api}/health/ready`, GET).catch(() => undefined);
    while (ready === undefined && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      ready = await httpRequest(`${api}/health/ready`, GET).catch(() => undefined);
    }
    expect(ready?.status).toBe(503);
    expect(JSON.parse(ready!.text)).toEqual({ status: 'not-ready', database: false });
    expect((await httpRequest(`${api}/health/live`, GET)).status).toBe(200);
    const other = await httpRequest(`${api}/api/v1/operators/PE/PEAEO1`, GET);
    expectProblem(other, 503, 'STORE_UNAVAILABLE');
    expect(other.headers['retry-after']).toBe('5');
    // Still waiting a few retries later: it neither exited nor gave up.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(failed).toBeUndefined();
    expect(gateway).toBeUndefined();

    pg.start();
    const g = await starting;
    expect(failed).toBeUndefined();
    expect(g?.apiUrl).toBe(api);
    // Listening at once; ready once the lookup read model is loaded too.
    await g?.readModelLoaded;
    const after = await httpRequest(`${api}/health/ready`, GET);
    expect(after.status).toBe(200);
    expect(JSON.parse(after.text)).toMatchObject({ database: true });
  }, 180_000);
});
