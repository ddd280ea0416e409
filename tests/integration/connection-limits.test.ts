/**
 * docs/threats.md 76 over real sockets, on every listener (partner and API, plain and TLS): a connection that sends
 * nothing, half a request head, or never finishes its TLS handshake is closed within the header timeout; a
 * keep-alive connection idle after its response is closed; a client over its per-address cap has the new
 * connection closed at once while its others stay and still serve requests.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientKey } from '../../src/http/connection-guard.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

const PLAIN_HEADERS_MS = 500;
const TLS_HEADERS_MS = 3_000;
const PER_ADDRESS = { server: 3, api: 4 };
/** Generous: the machine may be loaded; what is asserted is that the close comes, not how fast. */
const CLOSE_BOUND_MS = 20_000;

let admins: TestAdmins;
let plain: TestGateway;
let tls: TestGateway;

beforeAll(async () => {
  admins = makeAdmins(['PE', 'CL'], {
    mtls: true,
    edit: (id, raw) => {
      const caps = { maxConnectionsPerAddress: PER_ADDRESS.server };
      if (id === 'PE') {
        const { tls: _plain, ...server } = raw.server ?? {};
        raw.server = { ...server, mtls: false, headersTimeoutMs: PLAIN_HEADERS_MS, ...caps };
      }
      if (id === 'CL') {
        raw.server = { ...raw.server, headersTimeoutMs: TLS_HEADERS_MS, ...caps };
        // CL's development TLS certificate on its API listener too.
        raw.api = { ...raw.api, ...(raw.server.tls ? { tls: raw.server.tls } : {}) };
      }
      raw.api = { ...raw.api, maxConnectionsPerAddress: PER_ADDRESS.api };
    },
  });
  expect(admins.get('PE').config.server.tls).toBeUndefined();
  expect(admins.get('CL').config.api.tls).toBeDefined();
  expect(admins.get('CL').config.server.tls).toBeDefined();
  plain = await startTestGateway(admins.get('PE').config, 'embedded');
  tls = await startTestGateway(admins.get('CL').config, 'embedded', { store: plain.store });
});

afterAll(async () => {
  await tls?.close();
  await plain?.close();
  admins?.cleanup();
});

const portOf = (url: string) => Number(new URL(url).port);
const listeners = () => [
  { name: 'partner, plain', port: portOf(plain.gateway.url), tls: false, cap: PER_ADDRESS.server },
  { name: 'API, plain', port: portOf(plain.gateway.apiUrl), tls: false, cap: PER_ADDRESS.api },
  { name: 'partner, TLS', port: portOf(tls.gateway.url), tls: true, cap: PER_ADDRESS.server },
  { name: 'API, TLS', port: portOf(tls.gateway.apiUrl), tls: true, cap: PER_ADDRESS.api },
];

interface Opened {
  socket: Socket;
  openedAt: number;
  /** Resolves with the time from opening to the close, and what the server sent before closing. */
  closed: Promise<{ afterMs: number; received: string }>;
  isClosed(): boolean;
  /** Resolves once a whole HTTP response (head and Content-Length body) has arrived. */
  response(): Promise<string>;
}

/** A TCP connection to `port`; resolves once connected. */
async function open(port: number): Promise<Opened> {
  const socket = connect(port, '127.0.0.1');
  const openedAt = Date.now();
  let received = '';
  let done = false;
  socket.on('data', (d: Buffer) => {
    received += d.toString('latin1');
  });
  const closed = new Promise<{ afterMs: number; received: string }>((resolve, reject) => {
    const bound = setTimeout(
      () => reject(new Error(`still open after ${CLOSE_BOUND_MS} ms`)),
      CLOSE_BOUND_MS,
    );
    socket.once('close', () => {
      done = true;
      clearTimeout(bound);
      resolve({ afterMs: Date.now() - openedAt, received });
    });
  });
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('close', () => reject(new Error('closed before connecting')));
  });
  const response = () =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const head = received.indexOf('\r\n\r\n');
        const length = /content-length: *(\d+)/i.exec(received)?.[1];
        if (head < 0 || length === undefined || received.length < head + 4 + Number(length)) return;
        socket.off('data', check);
        resolve(received);
      };
      socket.on('data', check);
      socket.once('close', () => reject(new Error(`closed before a response: ${received}`)));
      check();
    });
  return { socket, openedAt, closed, isClosed: () => done, response };
}

const headersMs = (l: { tls: boolean }) => (l.tls ? TLS_HEADERS_MS : PLAIN_HEADERS_MS);

function expectTimeoutProblem(received: string): void {
  expect(received).toMatch(/^HTTP\/1\.1 408 /);
  expect(received).toContain('application/problem+json');
  expect(received).toContain('"code":"REQUEST_TIMEOUT"');
}

describe('connections that do not send a request (docs/threats.md 76)', () => {
  it('closes a connection that sends nothing, on every listener', async () => {
    const opened = await Promise.all(listeners().map((l) => open(l.port)));
    const closes = await Promise.all(opened.map((o) => o.closed));
    for (const [i, l] of listeners().entries()) {
      // Not before the header timeout (a little slack for the clocks of the two ends).
      expect(closes[i]!.afterMs, l.name).toBeGreaterThanOrEqual(headersMs(l) - 100);
      // A plain connection owed a request: told so, as a slow head is; TLS never got past its handshake.
      if (!l.tls) expectTimeoutProblem(closes[i]!.received);
      else expect(closes[i]!.received, l.name).toBe('');
    }
  });

  it('closes a connection that stops halfway through a request head, on the plain listeners', async () => {
    const plainOnes = listeners().filter((l) => !l.tls);
    const opened = await Promise.all(plainOnes.map((l) => open(l.port)));
    for (const o of opened) o.socket.write('GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ');
    const closes = await Promise.all(opened.map((o) => o.closed));
    for (const c of closes) {
      expect(c.afterMs).toBeGreaterThanOrEqual(PLAIN_HEADERS_MS - 100);
      expectTimeoutProblem(c.received);
    }
  });

  it('closes a TLS connection that finishes its handshake and then sends nothing', async () => {
    const port = portOf(tls.gateway.apiUrl);
    const socket = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false });
    socket.on('error', () => {});
    let received = '';
    socket.on('data', (d: Buffer) => {
      received += d.toString('latin1');
    });
    const openedAt = Date.now();
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('close', () => reject(new Error('closed during the handshake')));
    });
    const afterMs = await new Promise<number>((resolve, reject) => {
      const bound = setTimeout(() => reject(new Error('still open')), CLOSE_BOUND_MS);
      socket.once('close', () => {
        clearTimeout(bound);
        resolve(Date.now() - openedAt);
      });
    });
    expect(afterMs).toBeGreaterThanOrEqual(TLS_HEADERS_MS - 100);
    expectTimeoutProblem(received);
  });

  it('serves a request, then closes the keep-alive connection once it is idle', async () => {
    const o = await open(portOf(plain.gateway.apiUrl));
    o.socket.write('GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const { afterMs, received } = await o.closed;
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    expect(received).toMatch(/keep-alive/i);
    // Quiet after its response: closed without a second answer.
    expect(received.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    // Kept past the header timeout while idle after the response: the keep-alive bound applies there.
    expect(afterMs).toBeGreaterThan(PLAIN_HEADERS_MS + 1_000);
  });
});

describe('connections per client address (docs/threats.md 76)', () => {
  const GET = 'GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

  it.each([0, 1, 2, 3])(
    'closes the connection over the cap at once and keeps the others (listener %i)',
    async (i) => {
      const l = listeners()[i]!;
      const held = await Promise.all(Array.from({ length: l.cap }, () => open(l.port)));
      if (!l.tls) {
        // Each served once and kept alive: idle for the keep-alive bound, well past the header timeout.
        for (const h of held) h.socket.write(GET);
        await Promise.all(held.map((h) => h.response()));
      }
      const over = await open(l.port).catch(() => undefined);
      const refused = over === undefined ? { received: '' } : await over.closed;
      // Closed in the accept, unanswered (a timeout would have sent a 408 on a plain listener), while every
      // connection accepted before it is still open.
      expect(refused.received, l.name).toBe('');
      expect(
        held.filter((h) => h.isClosed()),
        l.name,
      ).toEqual([]);
      if (!l.tls) {
        // The ones it holds still serve requests.
        held[0]!.socket.write(GET.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'));
        const served = await held[0]!.closed;
        expect(served.received.match(/HTTP\/1\.1 200 /g), l.name).toHaveLength(2);
        // A slot freed is a slot again.
        const again = await open(l.port);
        again.socket.write(GET);
        expect(await again.response(), l.name).toMatch(/^HTTP\/1\.1 200 /);
        again.socket.destroy();
      }
      for (const h of held) h.socket.destroy();
      await Promise.all(held.map((h) => h.closed));
    },
  );
});

describe('connections in all', () => {
  it("caps each listener's connections with node's own maxConnections (defaults)", () => {
    for (const gw of [plain, tls]) {
      expect(gw.gateway.app.server.maxConnections).toBe(4_096);
      expect(gw.gateway.apiApp.server.maxConnections).toBe(4_096);
    }
  });
});

describe('which client a connection counts against', () => {
  it('counts IPv4, IPv4-mapped IPv6 and each IPv6 /64 as one client', () => {
    expect(clientKey('127.0.0.1')).toBe('127.0.0.1');
    expect(clientKey('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:0db8:0001:0002:ffff:1:2:3')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });
});
