/**
 * The composition without listeners: both apps answer requests through `inject` while neither server
 * listens, and closing stops the background work and leaves a store it does not own open.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeGateway } from '../../src/compose.ts';
import { createLogger } from '../../src/log.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { openTestStore } from '../support/gateway.ts';

let admins: TestAdmins;
beforeAll(() => {
  admins = makeAdmins(['PE', 'CL']);
});
afterAll(() => admins.cleanup());

describe('composeGateway', () => {
  it('serves both apps without a socket and closes once, leaving the shared store open', async () => {
    const { store, dispose } = await openTestStore('embedded');
    try {
      const composed = await composeGateway(admins.get('PE').config, {
        store,
        ownsStore: false,
        log: createLogger('silent'),
      });
      expect(composed.app.server.listening).toBe(false);
      expect(composed.apiApp.server.listening).toBe(false);
      const live = await composed.apiApp.inject({ method: 'GET', url: '/health/live' });
      expect(live.statusCode).toBe(200);
      const wk = await composed.app.inject({ method: 'GET', url: '/mra/v1/.well-known/mra-gateway' });
      expect(wk.statusCode).toBe(200);
      expect(JSON.parse(wk.body)).toMatchObject({ adminId: 'PE' });
      await Promise.all([composed.close(), composed.close()]);
      const [row] = await store.query<{ n: number }>('SELECT 1 AS n');
      expect(Number(row?.n)).toBe(1);
    } finally {
      await dispose();
    }
  });
});
