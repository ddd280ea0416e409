/**
 * docs/threats.md 57: PostgreSQL stops under a running gateway. A batch is answered 503 with Retry-After and no
 * receipt; once the database is back, the sender's retry of the same bytes is stored exactly once. Runs on a
 * private PostgreSQL server, so stopping it touches no other test.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleRecord } from '../../src/cli/samples.ts';
import { createLogger } from '../../src/log.ts';
import { signRecord } from '../../src/publishing/sign-record.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/types.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { expectProblem, httpRequest, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { type PrivatePostgres, startPrivatePostgres } from '../support/private-postgres.ts';

let pg: PrivatePostgres;
let admins: TestAdmins;
let store: Store;
let gw: TestGateway;

beforeAll(async () => {
  pg = await startPrivatePostgres();
  admins = makeAdmins(['PE', 'CL'], {
    edit: (_id, raw) => (raw.outbound = { pullIntervalMs: 0, reconcileIntervalMs: 0 }),
  });
  store = await openStore({ kind: 'postgres', databaseUrl: pg.url });
  gw = await startTestGateway(admins.get('CL').config, 'postgres', { store, log: createLogger('silent') });
}, 180_000);
afterAll(async () => {
  await gw?.close();
  await store?.close();
  pg?.close();
  admins?.cleanup();
});

async function evidenceOf(recordIds: readonly string[]): Promise<number> {
  const [row] = await store.query<{ n: string }>(
    'SELECT count(*)::text AS n FROM inbound_record WHERE record_id::text IN (SELECT jsonb_array_elements_text($1::jsonb))',
    [JSON.stringify(recordIds)],
  );
  return Number(row!.n);
}

describe('PostgreSQL stopped under the gateway', () => {
  it('answers 503 with Retry-After and no receipt, then stores the retry once', async () => {
    const signer = admins.get('PE').config.home.signers[0]!;
    const payloads = [sampleRecord('PE', 1), sampleRecord('PE', 2), sampleRecord('PE', 3)];
    const records = await Promise.all(payloads.map((p) => signRecord(p, signer)));
    const body = { records };

    pg.stop();
    const refused = await gw.post(body);
    const problem = expectProblem(refused, 503, 'STORE_UNAVAILABLE');
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.text).not.toContain('receipt');
    expect(String(problem.detail)).not.toMatch(/ECONNREFUSED|password|postgres:/);
    const ready = await httpRequest(`${gw.url}/health/ready`, { method: 'GET' });
    expect(ready.status).toBe(503);
    // The process stays up and answers.
    expect((await httpRequest(`${gw.url}/health/live`, { method: 'GET' })).status).toBe(200);

    pg.start();
    // The first use of a pooled connection that died with the server fails; the sender retries as told.
    let accepted: string[] | undefined;
    for (let attempt = 0; attempt < 10 && accepted === undefined; attempt++) {
      const res = await gw.post(body);
      if (res.status === 200) {
        const { receipt } = await gw.send(records);
        accepted = receipt.results.map((r) => r.outcome);
      } else {
        expectProblem(res, 503, 'STORE_UNAVAILABLE');
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    // The successful POST stored the batch; the send after it is the sender's retry of identical bytes.
    expect(accepted).toEqual(['duplicate', 'duplicate', 'duplicate']);
    expect(await evidenceOf(payloads.map((p) => p.recordId))).toBe(3);
  }, 180_000);
});
