/**
 * A partner endpoint that misbehaves on cue, for the delivery fault tests (docs/threats.md 60–63): a small HTTP
 * server on loopback standing between the sender and the real partner gateway. Scripted actions are used up
 * one request at a time; once none is left, requests are forwarded untouched. Every request body is kept,
 * so a test can check that retries send identical bytes (I4).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request } from 'undici';

export type FaultAction =
  /** Answers with this status, headers and body; the real partner never sees the batch. */
  | { kind: 'answer'; status: number; headers?: Record<string, string>; body?: string }
  /** Forwards, then answers 200 with another receipt made from the real one (which the partner signed). */
  | { kind: 'swap-receipt'; receipt: (real: string, records: readonly string[]) => string | Promise<string> }
  /** Accepts the request and never answers (until the sender gives up on the connection). */
  | { kind: 'hang' }
  /** Forwards (the partner stores the batch), then drops the connection before the receipt. */
  | { kind: 'drop-after-forward' };

export interface SeenRequest {
  at: number;
  body: string;
  action: FaultAction['kind'] | 'forward';
}

export interface FaultPartner {
  /** Base URL as a partner endpoint: http://127.0.0.1:<port>/mra/v1 */
  url: string;
  seen: SeenRequest[];
  /** Replaces the actions still to come. */
  script(actions: readonly FaultAction[]): void;
  close(): Promise<void>;
}

/** Listens on `port` (given to the sender's configuration beforehand); forwards to `target()` + /records. */
export async function startFaultPartner(port: number, target: () => string): Promise<FaultPartner> {
  let actions: FaultAction[] = [];
  const seen: SeenRequest[] = [];

  async function forward(body: string): Promise<{ status: number; text: string }> {
    const res = await request(`${target()}/mra/v1/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    return { status: res.statusCode, text: await res.body.text() };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const action = actions.shift();
    seen.push({ at: Date.now(), body, action: action?.kind ?? 'forward' });
    if (action === undefined) {
      const real = await forward(body);
      res.writeHead(real.status, { 'content-type': 'application/json' }).end(real.text);
      return;
    }
    switch (action.kind) {
      case 'answer':
        res.writeHead(action.status, { 'content-type': 'application/json', ...action.headers });
        res.end(action.body ?? '{}');
        return;
      case 'hang':
        return;
      case 'drop-after-forward':
        await forward(body);
        req.socket.destroy();
        return;
      case 'swap-receipt': {
        const real = await forward(body);
        const { receipt } = JSON.parse(real.text) as { receipt: string };
        const records = (JSON.parse(body) as { records: string[] }).records;
        const swapped = await action.receipt(receipt, records);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ receipt: swapped }));
        return;
      }
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${port}/mra/v1`,
    seen,
    script(next) {
      actions = [...next];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
