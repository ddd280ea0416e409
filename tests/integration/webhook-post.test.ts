/**
 * docs/threats.md 75 at delivery time, over real sockets on loopback: the name is resolved once (by an injected
 * resolver: no test resolves a real name) and the connection goes to exactly the address checked; a refused
 * address is never connected to; a name that later resolves to a refused address is refused; redirects are not
 * followed; what a failure is called is a class only. TLS: webhook-post-tls.test.ts; sessions one after
 * another: webhook-post-sessions.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  closeServers,
  counting,
  LOOPBACK,
  noContent,
  poster,
  resolverOf,
  send,
} from '../support/webhook-servers.ts';

afterEach(closeServers);

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
