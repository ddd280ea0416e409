/**
 * The receivers' border systems in phase 1: one small HTTP server on loopback in the benchmark's process, to
 * which each receiving gateway's border system subscribes (border scope, `POST /api/v1/subscriptions`, one path
 * per administration). It answers 204 at once and keeps, per administration and operator, the wall-clock time
 * the first notification for it arrived (the whole body read). It does not check the Standard Webhooks
 * signature: the gateway signs every notification all the same, and a border system's own check is not what
 * the benchmark measures (tests/support/webhook-receiver.ts checks it in the tests).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { wallNow } from './options.ts';

/** A notification body is about a kilobyte; anything far larger is not one: answered 413, not kept. */
const MAX_BODY = 64 * 1024;
const PATH = /^\/border\/([A-Z]{2})$/;

export interface WebhookArrivals {
  /** Per administration: aeoId → wall-clock ms of the first notification about it. */
  readonly first: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** Notifications received again for an operator already seen (a retry or a later version). */
  readonly repeats: number;
  /** Requests that were not a notification about an operator at a subscribed path. */
  readonly others: number;
  url(adminId: string): string;
  close(): Promise<void>;
}

/** The operator a notification body is about, or undefined when it is not a record's event. */
export function aeoIdOf(body: string): string | undefined {
  try {
    const event = JSON.parse(body) as { data?: { aeoId?: unknown } };
    const id = event.data?.aeoId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

export async function startWebhookReceiver(adminIds: readonly string[]): Promise<WebhookArrivals> {
  const first = new Map<string, Map<string, number>>(adminIds.map((id) => [id, new Map()]));
  const counts = { repeats: 0, others: 0 };
  const refuse = (req: IncomingMessage, res: import('node:http').ServerResponse, code: number) => {
    counts.others++;
    res.writeHead(code, { connection: 'close' }).end();
    req.resume();
  };
  const server: Server = createServer((req, res) => {
    const seen = first.get(PATH.exec(req.url ?? '')?.[1] ?? '');
    if (req.method !== 'POST' || seen === undefined) return refuse(req, res, 404);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () => {
      const at = wallNow();
      if (size > MAX_BODY) return refuse(req, res, 413);
      res.writeHead(204).end();
      const aeoId = aeoIdOf(Buffer.concat(chunks).toString('utf8'));
      if (aeoId === undefined) counts.others++;
      else if (seen.has(aeoId)) counts.repeats++;
      else seen.set(aeoId, at);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    first,
    get repeats() {
      return counts.repeats;
    },
    get others() {
      return counts.others;
    },
    url: (adminId) => `http://127.0.0.1:${port}/border/${adminId}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Subscribes the border system of the gateway at `apiUrl` to `url` for the publisher's records; answers a
 * function that removes the subscription (phase 2 runs without it, as it always has).
 */
export async function subscribe(
  apiUrl: string,
  token: string,
  url: string,
  issuer: string,
): Promise<() => Promise<void>> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const res = await fetch(`${apiUrl}/api/v1/subscriptions`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ url, issuers: [issuer] }),
  });
  const text = await res.text();
  if (res.status !== 201)
    throw new Error(`subscription at ${apiUrl}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  const { id } = JSON.parse(text) as { id: string };
  return async () => {
    const gone = await fetch(`${apiUrl}/api/v1/subscriptions/${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    await gone.text();
    if (gone.status !== 204) throw new Error(`removing subscription at ${apiUrl}: HTTP ${gone.status}`);
  };
}
