/**
 * The demo's border systems' webhook receiver: a small HTTP server on loopback that each gateway's border
 * system subscribes to through the API (one path per administration), checks every notification's Standard
 * Webhooks signature with the secret the subscription returned, and prints what it received. Until `live()`
 * it keeps what arrives for the demo to print as a step; after it, it prints each notification at once (a demo
 * left running shows the webhooks of decisions made by hand).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { api, type DemoClient } from './demo-api.ts';

export interface Notification {
  /** The administration whose border system received it. */
  at: string;
  type: string;
  issuer?: string;
  aeoId?: string;
  status?: string;
  recognised?: boolean;
  verified: boolean;
}

export interface DemoReceiver {
  /** The last notifications received, at most KEPT of them (a sandbox left running may receive many). */
  received: Notification[];
  /** Every notification received, and those whose signature verified. */
  counts: { total: number; verified: number };
  /** Subscribes the border system of `client`'s administration; answers the subscription id. */
  subscribe(client: DemoClient): Promise<string>;
  /** From now on, print each notification as it arrives. */
  live(print: (line: string) => void): void;
  close(): Promise<void>;
}

const MAX_BODY = 1 << 20;
/** How many of the last notifications the receiver keeps. */
export const KEPT = 100;

export function describeNotification(n: Notification): string {
  const who = n.issuer === undefined ? '' : ` ${n.issuer}/${n.aeoId}`;
  const state = n.status === undefined ? '' : ` ${n.status}${n.recognised === true ? ', recognised' : ''}`;
  const signature = n.verified ? 'signature verified' : 'SIGNATURE NOT VERIFIED';
  return `webhook at ${n.at}'s border system: ${n.type}${who}${state} (${signature})`;
}

export async function startReceiver(): Promise<DemoReceiver> {
  const received: Notification[] = [];
  const counts = { total: 0, verified: 0 };
  const secrets = new Map<string, string>();
  let print: ((line: string) => void) | undefined;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () => {
      const at = (req.url ?? '').replace(/^\/border\//, '');
      const secret = secrets.get(at);
      if (secret === undefined || size > MAX_BODY) {
        res.writeHead(404).end();
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      const n = readNotification(at, body, verify(secret, req.headers, body));
      counts.total += 1;
      if (n.verified) counts.verified += 1;
      received.push(n);
      if (received.length > KEPT) received.splice(0, received.length - KEPT);
      print?.(describeNotification(n));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    received,
    counts,
    async subscribe(client) {
      const at = client.gateway.config.home.adminId;
      const created = await api<{ id: string; secret: string }>(client, 'border', 'POST', '/subscriptions', {
        url: `http://127.0.0.1:${port}/border/${at}`,
      });
      secrets.set(at, created.secret);
      return created.id;
    },
    live(p) {
      print = p;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readNotification(at: string, body: string, verified: boolean): Notification {
  try {
    const event = JSON.parse(body) as {
      type?: string;
      data?: { issuer?: string; aeoId?: string; status?: string; recognised?: boolean; partner?: string };
    };
    const d = event.data ?? {};
    return {
      at,
      type: String(event.type),
      ...(d.issuer === undefined ? {} : { issuer: d.issuer, aeoId: String(d.aeoId) }),
      ...(d.status === undefined ? {} : { status: d.status }),
      ...(d.recognised === undefined ? {} : { recognised: d.recognised }),
      verified,
    };
  } catch {
    return { at, type: '(not JSON)', verified };
  }
}

/** Standard Webhooks: one of the `v1,` signatures is HMAC-SHA256(key, "id.timestamp.body"), key after whsec_. */
function verify(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
): boolean {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string') return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  return signatures.split(' ').some((s) => {
    if (!s.startsWith('v1,')) return false;
    const given = Buffer.from(s.slice(3), 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
