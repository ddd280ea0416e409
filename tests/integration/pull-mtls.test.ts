/**
 * Pulling under mutual TLS, as in production: CL pulls PE's feed presenting its TLS client certificate and a
 * request token, on PE's embedded store and CL's PostgreSQL. A token must come from the partner of the TLS
 * certificate (docs/threats.md 51), and a pulled record is judged exactly like a pushed one: a record in PE's
 * feed signed under another partner's anchors is ISSUER_MISMATCH (docs/threats.md 2, 41), and does not hold back
 * the records after it (I7).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordDigest } from '../../src/crypto/digest.ts';
import { signRecord } from '../../src/publishing/sign-record.ts';
import type { TestAdmins } from '../support/admins.ts';
import { makeLinkedAdmins, newAeoId, publish, requestToken } from '../support/exchange.ts';
import { expectProblem, httpRequest, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { freshRecord } from '../support/records.ts';

let admins: TestAdmins;
let pe: TestGateway;
let cl: TestGateway;
const agents: Agent[] = [];

beforeAll(async () => {
  admins = await makeLinkedAdmins(['PE', 'CL', 'EU'], { mtls: true });
  pe = await startTestGateway(admins.get('PE').config, 'embedded');
  cl = await startTestGateway(admins.get('CL').config, 'postgres');
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await cl?.close();
  await pe?.close();
  admins.cleanup();
});

const file = (id: string, name: string) => readFileSync(join(admins.get(id).dev.certDir, name), 'utf8');
/** An HTTPS client that trusts PE's CA and presents `id`'s TLS client certificate. */
function tlsClientOf(id: string): Agent {
  const agent = new Agent({
    connect: { ca: file('PE', 'root.pem'), cert: file(id, 'tls.pem'), key: file(id, 'tls.key') },
  });
  agents.push(agent);
  return agent;
}
const signer = (id: string) => admins.get(id).config.home.signers[0]!;

describe('pulling over mutual TLS', () => {
  it('pulls and reconciles with the TLS client certificate and a request token', async () => {
    expect(pe.url).toMatch(/^https:/);
    for (let i = 0; i < 3; i += 1) await publish(pe, newAeoId('PE'));
    const report = await cl.gateway.sync.pull('PE');
    expect(report).toMatchObject({ records: 3, outcomes: { accepted: 3 }, caughtUp: true, error: null });
    const reconciled = await cl.gateway.sync.reconcile('PE');
    expect(reconciled).toMatchObject({ inSync: true, partnerCount: 3, localCount: 3 });
  });

  it("accepts only a token of the TLS certificate's partner", async () => {
    const get = async (tlsOf: string, tokenOf: string) =>
      httpRequest(`${pe.url}/mra/v1/feed?limit=1`, {
        method: 'GET',
        headers: { authorization: `MRA ${await requestToken(signer(tokenOf), tokenOf, 'PE')}` },
        dispatcher: tlsClientOf(tlsOf),
      });
    expect((await get('CL', 'CL')).status).toBe(200);
    expect((await get('EU', 'EU')).status).toBe(200);
    for (const [tlsOf, tokenOf] of [
      ['CL', 'EU'],
      ['EU', 'CL'],
    ] as const) {
      const problem = expectProblem(await get(tlsOf, tokenOf), 401, 'UNAUTHORIZED');
      expect(problem.detail).toMatch(/iss must be the partner of the TLS client certificate/);
    }
    // The TLS certificate alone opens nothing.
    const bare = await httpRequest(`${pe.url}/mra/v1/feed`, { method: 'GET', dispatcher: tlsClientOf('CL') });
    expectProblem(bare, 401, 'UNAUTHORIZED');
  });

  it('judges pulled records like pushed ones: a foreign-signed record is refused, the next accepted', async () => {
    await cl.gateway.sync.pull('PE');
    // A record signed by EU slipped into PE's feed for CL (a bug or a break-in at PE).
    const foreign = freshRecord('EU');
    const jws = await signRecord(foreign, signer('EU'));
    const [row] = await pe.store.query<{ seq: string }>(
      `INSERT INTO home_record (record_id, aeo_id, version, status, programme, roles, jws, digest, created_at)
       VALUES ($1, $2, 1, 'certified', 'AEO-F', ARRAY['exporter'], $3, $4, now()) RETURNING seq::text`,
      [foreign.recordId, foreign.operator.aeoId, jws, recordDigest(jws)],
    );
    await pe.store.query(
      `INSERT INTO outbox (partner, record_seq, created_at) VALUES ('CL', $1::bigint, now())`,
      [row!.seq],
    );
    const after = newAeoId('PE');
    await publish(pe, after);

    const report = await cl.gateway.sync.pull('PE');
    expect(report).toMatchObject({
      records: 2,
      outcomes: { 'rejected:ISSUER_MISMATCH': 1, accepted: 1 },
      caughtUp: true,
      error: null,
    });
    const held = await cl.store.query<{ aeo_id: string }>(
      'SELECT aeo_id FROM operator_state WHERE aeo_id = ANY($1::text[])',
      [[foreign.operator.aeoId, after]],
    );
    expect(held.map((h) => h.aeo_id)).toEqual([after]);
    // The rejection is on record, in the receipt stored for the page.
    const [receipt] = await cl.store.query<{ record_count: number; accepted_count: number }>(
      'SELECT record_count, accepted_count FROM inbound_receipt ORDER BY received_at DESC LIMIT 1',
    );
    expect(receipt).toEqual({ record_count: 2, accepted_count: 1 });
    // The cursor moved past it: the next pull finds nothing.
    expect(await cl.gateway.sync.pull('PE')).toMatchObject({ records: 0, error: null });
  });
});
