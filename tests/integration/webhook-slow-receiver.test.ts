/**
 * docs/threats.md 75 and I7 at delivery time: a receiver that answers its status line and then trickles its body (or
 * its head) a byte at a time, each byte within the idle bound, must not hold a delivery for longer than the
 * poster's bound. The status decides the outcome; what follows it is not waited for. Loopback only.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createReceiverPolicy } from '../../src/notifications/receiver-policy.ts';
import { createWebhookPoster, type PostOutcome } from '../../src/notifications/webhook-post.ts';

const TIMEOUT_MS = 500;
/** Far beyond the poster's bound, still well inside the test's: a stalled delivery shows as 'stalled'. */
const STALLED_AFTER_MS = 15_000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

/** A raw server that, once the request arrives, writes `head` at once and then `drip` every 100 ms, forever. */
async function trickling(head: string, drip: (n: number) => string): Promise<number> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('data', () => {
      socket.write(head);
      let n = 0;
      const timer = setInterval(() => {
        if (!socket.destroyed) socket.write(drip(n++));
      }, 100);
      timers.add(timer);
      socket.once('close', () => {
        clearInterval(timer);
        timers.delete(timer);
        sockets.delete(socket);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearInterval(t);
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function post(port: number): Promise<PostOutcome | 'stalled'> {
  const policy = createReceiverPolicy(
    {
      allowHttp: true,
      allowHosts: [],
      allowNetworks: [{ network: '127.0.0.0', prefix: 8, family: 'ipv4' }],
    },
    async () => [],
  );
  const poster = createWebhookPoster({ policy, timeoutMs: TIMEOUT_MS });
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<'stalled'>((resolve) => {
    timer = setTimeout(() => resolve('stalled'), STALLED_AFTER_MS);
  });
  return Promise.race([
    poster(`http://127.0.0.1:${port}/hook`, { 'content-type': 'application/json' }, '{}'),
    stalled,
  ]).finally(() => clearTimeout(timer));
}

const chunk = () => '1\r\na\r\n';

describe('a receiver that trickles', () => {
  it('its body after a 2xx status is delivered, without waiting for the body', async () => {
    const port = await trickling('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n', chunk);
    expect(await post(port)).toEqual({ ok: true });
  });

  it('its body after a 5xx status is an http-5xx failure, without waiting for the body', async () => {
    const port = await trickling('HTTP/1.1 503 Busy\r\ntransfer-encoding: chunked\r\n\r\n', chunk);
    expect(await post(port)).toMatchObject({ ok: false, failure: 'http-5xx' });
  });

  it('a long head a byte at a time is a timeout', async () => {
    const head = `HTTP/1.1 200 OK\r\nx-slow: ${'a'.repeat(200)}\r\ncontent-length: 0\r\n\r\n`;
    const port = await trickling('', (n) => head[n] ?? '');
    expect(await post(port)).toMatchObject({ ok: false, failure: 'timeout' });
  });
});
