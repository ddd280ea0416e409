/**
 * Mutual TLS in front of the inbound flow (docs/threats.md A 1, 2, 6): a client without a verified partner
 * certificate reaches the health probes only and is refused on every partner route, the TLS peer is the sender whatever the records' signatures say, and the rate limit
 * counts per partner.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toPem } from '../../src/crypto/cert-builder.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import {
  expectNoTrace,
  expectProblem,
  httpRequest,
  outcomes,
  startTestGateway,
  type TestGateway,
  tableCounts,
} from '../support/gateway.ts';
import { issueUnder } from '../support/issue.ts';
import { freshSigned } from '../support/records.ts';

const RATE_LIMIT = 5;
const SCRAPER = randomBytes(32).toString('base64url');
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
let admins: TestAdmins;
/** An administration no one has an MRA with: its certificates chain to an unknown CA. */
let stranger: TestAdmins;
let gw: TestGateway;
const agents: Agent[] = [];

const file = (a: TestAdmins, id: string, name: string) =>
  readFileSync(join(a.get(id).dev.certDir, name), 'utf8');
/** An HTTPS client that trusts EU's CA and presents `id`'s TLS certificate, or none. */
function clientOf(id: string | undefined, from: TestAdmins = admins): Agent {
  const agent = new Agent({
    connect: {
      ca: file(admins, 'EU', 'root.pem'),
      ...(id ? { cert: file(from, id, 'tls.pem'), key: file(from, id, 'tls.key') } : {}),
    },
  });
  agents.push(agent);
  return agent;
}

/**
 * A fresh client address each time (the gateway trusts X-Forwarded-For here): unidentified callers are limited
 * per address, and these tests are about the refusal, not the limit.
 */
let addresses = 0;
const freshAddress = () => {
  addresses += 1;
  return `10.77.${Math.floor(addresses / 250)}.${(addresses % 250) + 1}`;
};

/** A raw TLS connection that asks for /health/live: what the handshake lets through, and how it ended. */
function tlsProbe(
  options: { cert?: string; key?: string },
  path = '/health/live',
  method = 'GET',
  address = freshAddress(),
): Promise<{ response: string; error?: string }> {
  const { port } = new URL(gw.url);
  return new Promise((resolve) => {
    let response = '';
    let error: string | undefined;
    const socket = connect({
      host: '127.0.0.1',
      port: Number(port),
      ca: file(admins, 'EU', 'root.pem'),
      servername: 'localhost',
      ...options,
    });
    const bound = setTimeout(() => socket.destroy(), 5000);
    socket.on('secureConnect', () =>
      socket.write(
        `${method} ${path} HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: ${address}\r\nConnection: close\r\n\r\n`,
      ),
    );
    socket.on('data', (d) => {
      response += d.toString('latin1');
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    socket.on('close', () => {
      clearTimeout(bound);
      resolve(error === undefined ? { response } : { response, error });
    });
  });
}

beforeAll(async () => {
  admins = makeAdmins(['EU', 'PE', 'CL', 'MX'], {
    mtls: true,
    edit: (id, raw) => {
      if (id === 'EU') {
        raw.server = { ...raw.server, rateLimitPerMinute: RATE_LIMIT, trustProxy: true };
        raw.apiClients = [{ id: 'scraper', tokenSha256: sha256(SCRAPER), scopes: ['monitoring'] }];
      }
    },
  });
  stranger = makeAdmins(['XX']);
  gw = await startTestGateway(admins.get('EU').config, 'postgres');
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await gw?.close();
  admins.cleanup();
  stranger.cleanup();
});

const signer = (id: string) => admins.get(id).config.home.signers[0]!;

describe('mutual TLS (A 1)', () => {
  it('accepts a batch from a partner presenting its TLS certificate, and names it as sender', async () => {
    expect(gw.url.startsWith('https://')).toBe(true);
    const { jws } = await freshSigned('PE', signer('PE'), 2);
    const { receipt, results } = await gw.send(jws, { dispatcher: clientOf('PE') });
    expect(receipt.sender).toBe('PE');
    expect(outcomes(results)).toEqual(['accepted', 'accepted']);
  });

  it.each([
    ['no client certificate', undefined],
    ['a certificate from an unknown CA', 'XX'],
  ])('refuses every partner route to a client with %s, leaving no trace', async (_name, id) => {
    const { records, jws } = await freshSigned('PE', signer('PE'));
    const before = await tableCounts(gw.store);
    const agent = id === undefined ? clientOf(undefined) : clientOf(id, stranger);
    expectProblem(
      await gw.post({ records: jws }, { dispatcher: agent, headers: { 'x-forwarded-for': freshAddress() } }),
      401,
      'PARTNER_UNKNOWN',
    );
    await expectNoTrace(gw.store, before, { recordIds: [records[0]!.recordId] });
    expect((await tableCounts(gw.store)).inbound_receipt).toBe(before.inbound_receipt);

    const options =
      id === undefined ? {} : { cert: file(stranger, id, 'tls.pem'), key: file(stranger, id, 'tls.key') };
    for (const [method, path] of [
      ['GET', '/mra/v1/feed'],
      ['GET', '/mra/v1/.well-known/mra-gateway'],
      ['GET', '/mra/v1/snapshot'],
      ['GET', '/health/../mra/v1/feed'],
      ['GET', '/health/live/../../mra/v1/feed'],
      ['GET', '/health/%2e%2e/mra/v1/feed'],
      ['HEAD', '/mra/v1/feed'],
      ['OPTIONS', '/mra/v1/feed'],
      ['OPTIONS', '*'],
      ['GET', '//health/live'],
      ['GET', '/health/live/'],
      ['GET', '/health/live%00'],
      ['GET', '/mra/v1/%zz'],
      ['GET', '/nowhere'],
      // Refused before the media type is looked at: 401, not 415.
      ['POST', '/mra/v1/records'],
    ]) {
      const refused = await tlsProbe(options, path, method);
      expect(refused.response, `${method} ${path}`).toMatch(/^HTTP\/1\.1 401 /);
      if (method !== 'HEAD') expect(refused.response, `${method} ${path}`).toContain('PARTNER_UNKNOWN');
    }
  });

  it('limits the refusals of one address, while its health probes are still answered', async () => {
    const address = freshAddress();
    for (let i = 0; i < RATE_LIMIT; i++) {
      expect((await tlsProbe({}, '/mra/v1/feed', 'GET', address)).response).toMatch(/^HTTP\/1\.1 401 /);
    }
    const limited = await tlsProbe({}, '/mra/v1/snapshot', 'GET', address);
    expect(limited.response).toMatch(/^HTTP\/1\.1 429 /);
    expect(limited.response).toContain('RATE_LIMITED');
    expect((await tlsProbe({}, '/health/live', 'GET', address)).response).toMatch(/^HTTP\/1\.1 200 /);
    // Another address is refused as before.
    expect((await tlsProbe({}, '/mra/v1/feed')).response).toMatch(/^HTTP\/1\.1 401 /);
  });

  it.each([
    ['no client certificate', undefined],
    ['a certificate from an unknown CA', 'XX'],
  ])('answers health probes of a client with %s (load balancers carry none)', async (_name, id) => {
    const options =
      id === undefined ? {} : { cert: file(stranger, id, 'tls.pem'), key: file(stranger, id, 'tls.key') };
    const live = await tlsProbe(options, '/health/live');
    expect(live.response.startsWith('HTTP/1.1 200')).toBe(true);
    const ready = await tlsProbe(options, '/health/ready');
    expect(ready.response.startsWith('HTTP/1.1 200')).toBe(true);
    expect(ready.response).toContain('"database":true');
  });

  it('lets a partner certificate through the same raw handshake', async () => {
    const tls = await tlsProbe({ cert: file(admins, 'CL', 'tls.pem'), key: file(admins, 'CL', 'tls.key') });
    expect(tls.response.startsWith('HTTP/1.1 200')).toBe(true);
  });
});

describe('metrics of refused certificates', () => {
  const refusals = async (reason: string) => {
    const res = await gw.api.request('/metrics', {
      method: 'GET',
      headers: { authorization: `Bearer ${SCRAPER}` },
    });
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    const m = new RegExp(`^mra_partner_refusals_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(res.text);
    return Number(m?.[1]);
  };

  it('counts a refused certificate once, as a certificate and not as a request token', async () => {
    const [certificate, token] = [await refusals('certificate'), await refusals('request-token')];
    const res = await httpRequest(`${gw.url}/mra/v1/feed`, {
      method: 'GET',
      headers: { 'x-forwarded-for': freshAddress() },
      dispatcher: clientOf(undefined),
    });
    expectProblem(res, 401, 'PARTNER_UNKNOWN');
    expect(await refusals('certificate')).toBe(certificate + 1);
    expect(await refusals('request-token')).toBe(token);
  });
});

describe('TLS peer against record signatures (A 2, F 41)', () => {
  it('rejects records signed by PE but sent over CL connection with ISSUER_MISMATCH, no trace', async () => {
    const { records, jws } = await freshSigned('PE', signer('PE'), 2);
    const before = await tableCounts(gw.store);
    const { receipt, results } = await gw.send(jws, { dispatcher: clientOf('CL') });
    expect(receipt.sender).toBe('CL');
    expect(outcomes(results)).toEqual(['rejected:ISSUER_MISMATCH', 'rejected:ISSUER_MISMATCH']);
    expect(results.map((r) => r.recordId)).toEqual(records.map((r) => r.recordId));
    await expectNoTrace(gw.store, before, {
      recordIds: records.map((r) => r.recordId),
      aeoIds: records.map((r) => r.operator.aeoId),
    });
  });

  it('rejects a record CL signed asserting an operator of PE with ISSUER_MISMATCH', async () => {
    const { records, jws } = await freshSigned('PE', signer('CL'));
    const before = await tableCounts(gw.store);
    const { results } = await gw.send(jws, { dispatcher: clientOf('CL') });
    expect(outcomes(results)).toEqual(['rejected:ISSUER_MISMATCH']);
    await expectNoTrace(gw.store, before, { aeoIds: [records[0]!.operator.aeoId] });
  });
});

describe('a client certificate the handshake accepts but the gateway rules do not', () => {
  it('refuses the request with 401 PARTNER_UNKNOWN instead of judging it as if mTLS were off', async () => {
    // Under PE's real CA and fine for OpenSSL, but on P-384, which the signing profile (and so the peer check) refuses.
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    const leaf = issueUnder(admins.get('PE'), { extKeyUsage: ['clientAuth'] }, p384);
    const agent = new Agent({
      connect: {
        ca: file(admins, 'EU', 'root.pem'),
        cert: toPem(leaf.chainDer[0]!),
        key: p384.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
    });
    agents.push(agent);
    const { records, jws } = await freshSigned('CL', signer('CL'));
    const before = await tableCounts(gw.store);
    const res = await gw.post(
      { records: jws },
      { dispatcher: agent, headers: { 'x-forwarded-for': freshAddress() } },
    );
    expectProblem(res, 401, 'PARTNER_UNKNOWN');
    await expectNoTrace(gw.store, before, { recordIds: [records[0]!.recordId] });
    expect((await tableCounts(gw.store)).inbound_receipt).toBe(before.inbound_receipt);
  });
});

describe('rate limit per partner (A 6, 7)', () => {
  it('answers 429 to the partner over its limit while another partner on the same address is served', async () => {
    const mx = clientOf('MX');
    for (let i = 0; i < RATE_LIMIT; i++) {
      const res = await gw.post(
        { records: ['x'] },
        { dispatcher: mx, headers: { 'x-forwarded-for': `10.0.0.${i}` } },
      );
      expect(res.status).toBe(200);
    }
    const limited = await gw.post(
      { records: ['x'] },
      { dispatcher: mx, headers: { 'x-forwarded-for': '10.9.9.9' } },
    );
    expectProblem(limited, 429, 'RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // A fresh connection of the same partner is the same partner.
    expectProblem(await gw.post({ records: ['x'] }, { dispatcher: clientOf('MX') }), 429, 'RATE_LIMITED');
    const { jws } = await freshSigned('PE', signer('PE'));
    expect(outcomes((await gw.send(jws, { dispatcher: clientOf('PE') })).results)).toEqual(['accepted']);
  });
});
