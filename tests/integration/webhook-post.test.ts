/**
 * docs/threats.md 75 at delivery time, over real sockets on loopback: the name is resolved once (by an injected
 * resolver: no test resolves a real name) and the connection goes to exactly the address checked, with TLS
 * verified against the URL's host; a refused address is never connected to; a name that later resolves to
 * a refused address is refused; redirects are not followed; what a failure is called is a class only. A
 * session's connections serve the next session only where its own check found the same addresses.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ReceiverRules } from '../../src/config/types.ts';
import { buildCertificate, toPem } from '../../src/crypto/cert-builder.ts';
import { createReceiverPolicy, type Resolver } from '../../src/notifications/receiver-policy.ts';
import {
  createWebhookPoster,
  createWebhookSessions,
  type PostOutcome,
} from '../../src/notifications/webhook-post.ts';

interface Counting {
  port: number;
  connections: number;
  requests: { host: string | undefined; path: string | undefined }[];
  close(): Promise<void>;
}

const servers: Counting[] = [];

/** A server that counts every connection made to it, and answers each request with `answer`. */
async function counting(
  answer: (res: import('node:http').ServerResponse) => void,
  host = '127.0.0.1',
  make: (h: import('node:http').RequestListener) => Server = (h) => createHttpServer(h),
): Promise<Counting> {
  const sockets = new Set<Socket>();
  const c: Counting = {
    port: 0,
    connections: 0,
    requests: [],
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = make((req, res) => {
    req.resume();
    req.on('end', () => {
      c.requests.push({ host: req.headers.host, path: req.url });
      answer(res);
    });
  });
  server.on('connection', (s: Socket) => {
    c.connections += 1;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  c.port = (server.address() as AddressInfo).port;
  servers.push(c);
  return c;
}

const noContent = (res: import('node:http').ServerResponse) => res.writeHead(204).end();

function resolverOf(answers: Record<string, string[]>): Resolver & { asked: string[] } {
  const asked: string[] = [];
  return Object.assign(
    async (host: string) => {
      asked.push(host);
      return answers[host] ?? [];
    },
    { asked },
  );
}

function poster(
  rules: Partial<ReceiverRules>,
  resolve: Resolver,
  extra: { ca?: string; timeoutMs?: number } = {},
) {
  const policy = createReceiverPolicy(
    { allowHttp: false, allowHosts: [], allowNetworks: [], ...rules },
    resolve,
  );
  return createWebhookPoster({
    policy,
    timeoutMs: extra.timeoutMs ?? 20_000,
    ...(extra.ca ? { ca: extra.ca } : {}),
  });
}

const LOOPBACK = {
  allowHttp: true,
  allowNetworks: [{ network: '127.0.0.0', prefix: 8, family: 'ipv4' as const }],
};
const send = (p: ReturnType<typeof poster>, url: string): Promise<PostOutcome> =>
  p(url, { 'content-type': 'application/json' }, '{}');

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('the connection', () => {
  it('goes to the address checked for the name, which the system never resolves', async () => {
    const receiver = await counting(noContent);
    const resolve = resolverOf({ 'hooks.example': ['127.0.0.1'] });
    expect(await send(poster(LOOPBACK, resolve), `http://hooks.example:${receiver.port}/h`)).toEqual({
      ok: true,
    });
    expect(resolve.asked).toEqual(['hooks.example']);
    expect(receiver.requests).toEqual([{ host: `hooks.example:${receiver.port}`, path: '/h' }]);
  });

  it('is never made to a refused literal, nor is anything resolved', async () => {
    const receiver = await counting(noContent);
    const resolve = resolverOf({});
    const got = await send(poster({ allowHttp: true }, resolve), `http://127.0.0.1:${receiver.port}/h`);
    expect(got).toMatchObject({ ok: false, failure: 'refused-address' });
    expect(resolve.asked).toEqual([]);
    expect(receiver.connections).toBe(0);
  });

  it('is never made to a name resolving to a refused address', async () => {
    const receiver = await counting(noContent);
    const resolve = resolverOf({ 'hooks.example': ['127.0.0.1'] });
    const got = await send(poster({ allowHttp: true }, resolve), `http://hooks.example:${receiver.port}/h`);
    expect(got).toMatchObject({ ok: false, failure: 'refused-address' });
    expect(receiver.connections).toBe(0);
  });

  it('is refused when the name later resolves to a refused address (rebinding)', async () => {
    // 127.0.0.2 stands for a public address (allowed), 127.0.0.1 for the internal one it is rebound to.
    const outside = await counting(noContent, '127.0.0.2');
    const inside = await counting(noContent, '127.0.0.1');
    const answers: Record<string, string[]> = { 'hooks.example': ['127.0.0.2'] };
    const p = poster(
      { allowHttp: true, allowNetworks: [{ network: '127.0.0.2', prefix: 32, family: 'ipv4' }] },
      async (host) => answers[host] ?? [],
    );
    expect(await send(p, `http://hooks.example:${outside.port}/h`)).toEqual({ ok: true });
    answers['hooks.example'] = ['127.0.0.1'];
    expect(await send(p, `http://hooks.example:${inside.port}/h`)).toMatchObject({
      ok: false,
      failure: 'refused-address',
    });
    expect(inside.connections).toBe(0);
    expect(outside.requests).toHaveLength(1);
  });

  it('does not follow a redirect', async () => {
    const target = await counting(noContent);
    const redirecting = await counting((res) =>
      res.writeHead(302, { location: `http://127.0.0.1:${target.port}/elsewhere` }).end(),
    );
    const got = await send(poster(LOOPBACK, resolverOf({})), `http://127.0.0.1:${redirecting.port}/h`);
    expect(got).toMatchObject({ ok: false, failure: 'http-3xx' });
    expect(redirecting.requests).toHaveLength(1);
    expect(target.connections).toBe(0);
  });
});

describe('sessions one after another', () => {
  const sessionsOf = (resolve: Resolver) =>
    createWebhookSessions({
      policy: createReceiverPolicy({ allowHosts: [], ...LOOPBACK }, resolve),
      timeoutMs: 20_000,
    });
  const postOnce = async (open: ReturnType<typeof sessionsOf>, url: string) => {
    const opened = await open(url, 4);
    if (!opened.ok) return opened;
    try {
      return await opened.session.post({ 'content-type': 'application/json' }, '{}');
    } finally {
      opened.session.close();
      // undici frees a connection on the turn after its answer was read; a next job is never as quick.
      await new Promise((resolve) => setImmediate(resolve));
    }
  };

  it('go over the same connection to the same checked address, and a new one after a failure', async () => {
    const statuses = [204, 204, 503, 204];
    const receiver = await counting((res) => res.writeHead(statuses.shift() ?? 204).end());
    const resolve = resolverOf({ 'hooks.example': ['127.0.0.1'] });
    const open = sessionsOf(resolve);
    const url = `http://hooks.example:${receiver.port}/h`;
    expect(await postOnce(open, url)).toEqual({ ok: true });
    expect(await postOnce(open, url)).toEqual({ ok: true });
    expect(receiver.connections).toBe(1);
    expect(await postOnce(open, url)).toMatchObject({ ok: false, failure: 'http-5xx' });
    expect(await postOnce(open, url)).toEqual({ ok: true });
    expect(receiver.connections).toBe(2);
    // Each session checked the name again.
    expect(resolve.asked).toHaveLength(4);
  });

  it('do not share connections when the name resolves to other addresses, nor past a refusal', async () => {
    const receiver = await counting(noContent);
    const answers: Record<string, string[]> = { 'hooks.example': ['127.0.0.1'] };
    const open = sessionsOf(async (host) => answers[host] ?? []);
    const url = `http://hooks.example:${receiver.port}/h`;
    expect(await postOnce(open, url)).toEqual({ ok: true });
    answers['hooks.example'] = ['127.0.0.1', '127.0.0.3'];
    expect(await postOnce(open, url)).toEqual({ ok: true });
    expect(receiver.connections).toBe(2);
    answers['hooks.example'] = ['10.0.0.1'];
    expect(await postOnce(open, url)).toMatchObject({ ok: false, failure: 'refused-address' });
    expect(receiver.requests).toHaveLength(2);
  });
});

describe('a failure', () => {
  it('is named by its class; the detail is for the log', async () => {
    const p = poster(LOOPBACK, resolverOf({}));
    const notFound = await counting((res) => res.writeHead(404).end('no such hook at 10.1.2.3'));
    const failing = await counting((res) => res.writeHead(503).end());
    const closed = await counting(noContent);
    const closedPort = closed.port;
    await closed.close();
    expect(await send(p, `http://127.0.0.1:${notFound.port}/`)).toEqual({
      ok: false,
      failure: 'http-4xx',
      detail: 'HTTP 404',
    });
    expect(await send(p, `http://127.0.0.1:${failing.port}/`)).toMatchObject({
      ok: false,
      failure: 'http-5xx',
    });
    const refused = await send(p, `http://127.0.0.1:${closedPort}/`);
    expect(refused).toMatchObject({ ok: false, failure: 'refused' });
    if (!refused.ok) expect(refused.detail).toMatch(/ECONNREFUSED/);
  });

  it('of a receiver that never answers is a timeout', async () => {
    const silent = await counting(() => {});
    const p = poster(LOOPBACK, resolverOf({}), { timeoutMs: 300 });
    expect(await send(p, `http://127.0.0.1:${silent.port}/`)).toMatchObject({
      ok: false,
      failure: 'timeout',
    });
  });
});

describe('TLS', () => {
  let ca: string;
  let serverFor: (names: string[]) => { key: string; cert: string };

  beforeAll(() => {
    const caKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const caName = { commonName: 'Webhook test CA' };
    const now = Date.now();
    ca = toPem(
      buildCertificate({
        subjectPublicKey: caKeys.publicKey,
        issuerPrivateKey: caKeys.privateKey,
        subject: caName,
        issuer: caName,
        notBefore: new Date(now - 86_400_000),
        notAfter: new Date(now + 86_400_000),
        basicConstraints: { ca: true },
        keyUsage: ['keyCertSign', 'cRLSign'],
      }),
    );
    serverFor = (names) => {
      const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const cert = buildCertificate({
        subjectPublicKey: keys.publicKey,
        issuerPrivateKey: caKeys.privateKey,
        subject: { commonName: names[0]! },
        issuer: caName,
        notBefore: new Date(now - 86_400_000),
        notAfter: new Date(now + 86_400_000),
        basicConstraints: { ca: false },
        keyUsage: ['digitalSignature'],
        extKeyUsage: ['serverAuth'],
        subjectAltName: { dns: names },
      });
      return { key: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), cert: toPem(cert) };
    };
  });

  const https = (names: string[]) =>
    counting(noContent, '127.0.0.1', (h) => createHttpsServer(serverFor(names), h) as unknown as Server);

  it('is verified against the URL host, at the address checked for it', async () => {
    const receiver = await https(['hooks.example']);
    const resolve = resolverOf({ 'hooks.example': ['127.0.0.1'] });
    const p = poster({ allowNetworks: LOOPBACK.allowNetworks }, resolve, { ca });
    expect(await send(p, `https://hooks.example:${receiver.port}/h`)).toEqual({ ok: true });
    expect(receiver.requests).toHaveLength(1);
  });

  it('fails as tls for another name, an unknown CA, or plain http behind https', async () => {
    const other = await https(['other.example']);
    const resolve = resolverOf({ 'hooks.example': ['127.0.0.1'] });
    const withCa = poster({ allowNetworks: LOOPBACK.allowNetworks }, resolve, { ca });
    const withoutCa = poster({ allowNetworks: LOOPBACK.allowNetworks }, resolve);
    expect(await send(withCa, `https://hooks.example:${other.port}/h`)).toMatchObject({
      ok: false,
      failure: 'tls',
    });
    const right = await https(['hooks.example']);
    expect(await send(withoutCa, `https://hooks.example:${right.port}/h`)).toMatchObject({
      ok: false,
      failure: 'tls',
    });
    const plain = await counting(noContent);
    expect(await send(withCa, `https://hooks.example:${plain.port}/h`)).toMatchObject({
      ok: false,
      failure: 'tls',
    });
    expect(other.requests).toHaveLength(0);
    expect(right.requests).toHaveLength(0);
  });
});
