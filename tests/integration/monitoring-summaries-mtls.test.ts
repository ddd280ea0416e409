/**
 * Monitoring summaries under mutual TLS, as in production, on PE's embedded store and CL's PostgreSQL: PE's
 * summary reaches CL over PE's TLS client certificate and is kept; CL pulls PE's summary feed with its TLS
 * certificate and a request token; the TLS peer is the sender, so a summary BO signed, sent over PE's
 * connection, is ISSUER_MISMATCH; and a partner whose MRA is suspended still pushes and pulls summaries.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestAdmins } from '../support/admins.ts';
import { API_TOKENS, bearer, makeLinkedAdmins, requestToken } from '../support/exchange.ts';
import {
  httpRequest,
  outcomes,
  postTo,
  receiptOf,
  startTestGateway,
  type TestGateway,
} from '../support/gateway.ts';
import { buildSummary, daysAgo, heldFrom, signAsSummary } from '../support/summaries.ts';

let admins: TestAdmins;
let pe: TestGateway;
let cl: TestGateway;
const agents: Agent[] = [];

beforeAll(async () => {
  admins = await makeLinkedAdmins(['PE', 'CL', 'BO'], {
    mtls: true,
    edit: (id, raw) => {
      raw.monitoring = { summaries: { auto: false } };
      // The MRA between PE and CL is suspended on both sides: summaries are still pushed and pulled.
      const other = id === 'CL' ? 'PE' : id === 'PE' ? 'CL' : undefined;
      const partner = raw.partners.find((p) => p.adminId === other);
      if (partner) partner.mra.status = 'suspended';
    },
  });
  pe = await startTestGateway(admins.get('PE').config, 'embedded');
  cl = await startTestGateway(admins.get('CL').config, 'postgres');
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await cl?.close();
  await pe?.close();
  admins?.cleanup();
});

const file = (id: string, name: string) => readFileSync(join(admins.get(id).dev.certDir, name), 'utf8');

/** An HTTPS client that trusts CL's CA and presents `id`'s TLS client certificate. */
function tlsClientOf(id: string): Agent {
  const agent = new Agent({
    connect: { ca: file('CL', 'root.pem'), cert: file(id, 'tls.pem'), key: file(id, 'tls.key') },
  });
  agents.push(agent);
  return agent;
}

describe('summaries under mutual TLS', () => {
  it('are pushed by PE over its TLS certificate and kept by CL, their MRA suspended', async () => {
    const day = daysAgo(1);
    const res = await pe.api.post(
      '/api/v1/monitoring/summaries',
      { partner: 'CL', from: day, to: day },
      { headers: bearer(API_TOKENS.monitoring) },
    );
    expect(res.status, res.text.slice(0, 300)).toBe(201);
    const issued = JSON.parse(res.text) as { summary: { summaryId: string }; push: { state: string } };
    expect(issued.push.state).toBe('delivered');
    const held = await heldFrom(cl.store, 'PE');
    expect(held.map((h) => h.summary_id)).toContain(issued.summary.summaryId);
  });

  it('take the TLS peer as sender: a summary signed by BO over PE connection is ISSUER_MISMATCH', async () => {
    const mraOf = (id: string) => admins.get('CL').config.partners.find((p) => p.adminId === id)!.mra.id;
    const period = { from: '2024-05-01', to: '2024-05-31' };
    const byPe = await signAsSummary(
      buildSummary({ reporter: 'PE', subject: 'CL', mraId: mraOf('PE') }, { period }),
      admins.get('PE').config.home.signers[0]!,
    );
    const byBo = await signAsSummary(
      buildSummary({ reporter: 'BO', subject: 'CL', mraId: mraOf('BO') }, { period }),
      admins.get('BO').config.home.signers[0]!,
    );
    const sent = receiptOf(
      await postTo(
        `${cl.url}/mra/v1/monitoring`,
        { summaries: [byBo, byPe] },
        { dispatcher: tlsClientOf('PE') },
      ),
    );
    expect(sent.receipt.sender).toBe('PE');
    expect(outcomes(sent.results)).toEqual(['rejected:ISSUER_MISMATCH', 'accepted']);
  });

  it("are pulled by CL from PE's feed with its TLS certificate and a request token", async () => {
    const report = await cl.gateway.summaries.pull('PE');
    expect(report.error).toBeNull();
    expect(report.summaries).toBeGreaterThanOrEqual(1);
    expect(Object.keys(report.outcomes)).toEqual(['duplicate']);

    // And a token from another partner than the TLS peer opens nothing.
    const token = await requestToken(admins.get('BO').config.home.signers[0]!, 'BO', 'CL');
    const res = await httpRequest(`${cl.url}/mra/v1/monitoring`, {
      method: 'GET',
      headers: { authorization: `MRA ${token}` },
      dispatcher: tlsClientOf('PE'),
    });
    expect(res.status).toBe(401);
  });
});
