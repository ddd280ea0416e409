/**
 * A border system's webhook receiver on loopback for notification tests: records every request (path,
 * headers, raw body), can be stopped and started again on the same port, and verifies Standard Webhooks
 * signatures on its own, from the specification, not through the gateway's code.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface WebhookReceiver {
  readonly received: Received[];
  url(path: string): string;
  stop(): Promise<void>;
  start(): Promise<void>;
  on(path: string): Received[];
}

export async function startReceiver(): Promise<WebhookReceiver> {
  const received: Received[] = [];
  let port = 0;
  let server: Server | undefined;
  const start = async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  };
  await start();
  return {
    received,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    start,
    async stop() {
      const s = server;
      server = undefined;
      if (s === undefined) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    on: (path) => received.filter((r) => r.path === path),
  };
}

/** True when one of the `v1,` signatures in the header is HMAC-SHA256(key, "id.timestamp.body"). */
export function verifyStandardWebhook(secret: string, r: Received): boolean {
  const id = String(r.headers['webhook-id']);
  const timestamp = String(r.headers['webhook-timestamp']);
  if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${r.body}`).digest();
  return String(r.headers['webhook-signature'])
    .split(' ')
    .some((sig) => {
      const [version, value] = sig.split(',');
      const got = Buffer.from(value ?? '', 'base64');
      return version === 'v1' && got.length === expected.length && timingSafeEqual(got, expected);
    });
}
