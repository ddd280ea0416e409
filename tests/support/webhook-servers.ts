/**
 * Loopback servers and posters for the webhook poster's tests (integration/webhook-post*.test.ts): a server that
 * counts its connections and requests, a resolver that answers from a table and records what it was asked, and
 * a poster under given receiver rules. A test file closes its servers after each test with closeServers.
 */
import {
  createServer as createHttpServer,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ReceiverRules } from '../../src/config/types.ts';
import { createReceiverPolicy, type Resolver } from '../../src/notifications/receiver-policy.ts';
import { createWebhookPoster, type PostOutcome } from '../../src/notifications/webhook-post.ts';

export interface Counting {
  port: number;
  connections: number;
  requests: { host: string | undefined; path: string | undefined }[];
  close(): Promise<void>;
}

const servers: Counting[] = [];

/** A server that counts every connection made to it, and answers each request with `answer`. */
export async function counting(
  answer: (res: ServerResponse) => void,
  host = '127.0.0.1',
  make: (h: RequestListener) => Server = (h) => createHttpServer(h),
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

/** Closes every server `counting` made since the last call. */
export async function closeServers(): Promise<void> {
  await Promise.all(servers.splice(0).map((s) => s.close()));
}

export const noContent = (res: ServerResponse) => res.writeHead(204).end();

export function resolverOf(answers: Record<string, string[]>): Resolver & { asked: string[] } {
  const asked: string[] = [];
  return Object.assign(
    async (host: string) => {
      asked.push(host);
      return answers[host] ?? [];
    },
    { asked },
  );
}

export function poster(
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

export const LOOPBACK = {
  allowHttp: true,
  allowNetworks: [{ network: '127.0.0.0', prefix: 8, family: 'ipv4' as const }],
};

export const send = (p: ReturnType<typeof poster>, url: string): Promise<PostOutcome> =>
  p(url, { 'content-type': 'application/json' }, '{}');
