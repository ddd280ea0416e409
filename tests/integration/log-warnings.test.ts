/**
 * What an operator of the gateway is warned about in its logs, naming the partner: records of a partner
 * rejected, a client certificate that identifies no partner, a request token refused, and a TLS handshake
 * that failed (with the address); and the progress lines while a large read model loads.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toPem } from '../../src/crypto/cert-builder.ts';
import { createLogger } from '../../src/log.ts';
import { startLookup } from '../../src/lookup/service.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import {
  expectProblem,
  httpRequest,
  outcomes,
  startTestGateway,
  type TestGateway,
} from '../support/gateway.ts';
import { composeTestGateway } from '../support/inject.ts';
import { issueUnder } from '../support/issue.ts';
import { freshSigned } from '../support/records.ts';

interface Line {
  level: number;
  msg: string;
  [key: string]: unknown;
}

const WARN = 40;
const lines: Line[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const text of chunk.toString('utf8').split('\n'))
      if (text !== '') lines.push(JSON.parse(text) as Line);
    done();
  },
});
const log = createLogger('info', sink);

let admins: TestAdmins;
let stranger: TestAdmins;
let gw: TestGateway;
const agents: Agent[] = [];

const file = (a: TestAdmins, id: string, name: string) =>
  readFileSync(join(a.get(id).dev.certDir, name), 'utf8');
function clientOf(id: string, from: TestAdmins = admins): Agent {
  const agent = new Agent({
    connect: {
      ca: file(admins, 'EU', 'root.pem'),
      cert: file(from, id, 'tls.pem'),
      key: file(from, id, 'tls.key'),
    },
  });
  agents.push(agent);
  return agent;
}

/** Waits (bounded) for a log line that `match` accepts. */
async function lineWhere(what: string, match: (line: Line) => boolean): Promise<Line> {
  for (let i = 0; i < 400; i += 1) {
    const found = lines.find(match);
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no log line: ${what}`);
}

beforeAll(async () => {
  admins = makeAdmins(['EU', 'PE', 'CL'], { mtls: true });
  stranger = makeAdmins(['XX']);
  gw = await startTestGateway(admins.get('EU').config, 'postgres', { log });
}, 60_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await gw?.close();
  admins?.cleanup();
  stranger?.cleanup();
});

const signer = (id: string) => admins.get(id).config.home.signers[0]!;

describe('warnings naming the partner', () => {
  it('says which partner had records rejected, and how many', async () => {
    const { jws } = await freshSigned('PE', signer('PE'), 5);
    const { results } = await gw.send([...jws, 'x.y.z'], { dispatcher: clientOf('PE') });
    expect(outcomes(results)).toEqual([...Array(5).fill('accepted'), 'rejected:JWS_MALFORMED']);
    const warn = await lineWhere('records rejected', (l) => l.level === WARN && /rejected/.test(l.msg));
    expect(warn.partner).toBe('PE');
    expect(warn.rejected).toBe(1);
    expect(warn.msg).toBe('records of PE rejected: 1 of 6');
  });

  it('warns of a client certificate that identifies no partner, with its address', async () => {
    const { jws } = await freshSigned('PE', signer('PE'));
    expectProblem(
      await gw.post({ records: jws }, { dispatcher: clientOf('XX', stranger) }),
      401,
      'PARTNER_UNKNOWN',
    );
    const warn = await lineWhere(
      'certificate refused',
      (l) => l.level === WARN && /identifies no partner/.test(l.msg),
    );
    expect(warn.address).toBe('127.0.0.1');
    // OpenSSL's verdict on a certificate it could not verify, and no partner claimed by an unknown CA.
    expect(typeof warn.authorizationError).toBe('string');
    expect(warn.claimedPartner).toBeUndefined();
  });

  it('names the partner a refused certificate claims to come from, as a claim', async () => {
    // Under PE's real CA and fine for OpenSSL, but on P-384, which the gateway's chain rules refuse.
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
    const res = await httpRequest(`${gw.url}/mra/v1/feed`, { method: 'GET', dispatcher: agent });
    expectProblem(res, 401, 'PARTNER_UNKNOWN');
    const warn = await lineWhere(
      'certificate claiming PE refused',
      (l) => l.level === WARN && /identifies no partner/.test(l.msg) && l.claimedPartner === 'PE',
    );
    expect(warn.partner).toBeUndefined();
    expect(warn.authorizationError).toBeUndefined();
    expect(warn.url).toBe('/mra/v1/feed');
  });

  it('warns of a refused request token, naming the partner', async () => {
    const res = await httpRequest(`${gw.url}/mra/v1/feed`, {
      method: 'GET',
      headers: { authorization: 'MRA eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJQRSJ9.c2ln' },
      dispatcher: clientOf('PE'),
    });
    expectProblem(res, 401, 'UNAUTHORIZED');
    const warn = await lineWhere('token refused', (l) => l.level === WARN && /request token/.test(l.msg));
    expect(warn.partner).toBe('PE');
    expect(warn.msg).toBe('request token of PE refused');
  });

  it('logs the issuer of a refused token as a claim when no certificate identified the caller', async () => {
    const plain = makeAdmins(['EU', 'PE'], { mtls: false });
    const injected = await composeTestGateway(plain.get('EU').config, 'postgres', { log });
    try {
      const res = await injected.partner.request('/mra/v1/feed', {
        method: 'GET',
        headers: { authorization: 'MRA eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJQRSJ9.c2ln' },
      });
      expectProblem(res, 401, 'UNAUTHORIZED');
      const warn = await lineWhere(
        'token refused, issuer claimed',
        (l) => l.level === WARN && /request token refused/.test(l.msg),
      );
      expect(warn.claimedIssuer).toBe('PE');
      expect(warn.partner).toBeUndefined();
      expect(warn.msg).toBe('request token refused (claimed issuer PE)');
    } finally {
      await injected.close();
      plain.cleanup();
    }
  });

  it('warns of a failed TLS handshake with the address', async () => {
    const { port } = new URL(gw.url);
    // Plain HTTP to the TLS listener: no handshake can come of it.
    await new Promise<void>((resolve) => {
      const socket = connectTcp({ host: '127.0.0.1', port: Number(port) }, () => {
        socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
      });
      const bound = setTimeout(() => socket.destroy(), 5_000);
      socket.on('error', () => {});
      socket.on('data', () => {});
      socket.on('close', () => {
        clearTimeout(bound);
        resolve();
      });
    });
    const warn = await lineWhere(
      'handshake failed',
      (l) => l.level === WARN && l.msg === 'TLS handshake failed',
    );
    expect(warn.address).toMatch(/127\.0\.0\.1/);
    expect(typeof warn.err).toBe('string');
  });
});

describe('loading a large read model', () => {
  it('logs its progress every N operators', async () => {
    const before = lines.length;
    const lookup = await startLookup({
      config: admins.get('EU').config,
      store: gw.store,
      log,
      replicate: false,
      progressEvery: 2,
      pageSize: 2,
    });
    // The listeners open before the model is loaded: wait for the load, then stop.
    await lookup.loaded;
    await lookup.close();
    const progress = lines
      .slice(before)
      .filter((l) => l.msg.startsWith('loading read model:'))
      .map((l) => l.msg);
    console.log(progress.join('\n'));
    expect(progress[0]).toBe('loading read model: 0/5');
    expect(progress).toContain('loading read model: 2/5');
    expect(progress).toContain('loading read model: 4/5');
  });
});
