/**
 * An HTTP endpoint in the test process that answers for the far side of a delivery (a partner's records
 * endpoint, a border system's webhook receiver) and, when armed, crashes the sending gateway process at the
 * worst moment for docs/threats.md 59: after the side effect and before the sender could learn of it. The sender
 * is stopped (SIGSTOP) before the answer is written, and killed (SIGKILL) once the answer is on its way, so
 * it never reads the answer, whatever the machine's load.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface StubExchange {
  at: number;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  status: number;
  answer: string;
}

export interface CrashStub {
  url(path: string): string;
  readonly seen: StubExchange[];
  /** The next request crashes the sender: `freeze` before the answer, `kill` after it is written. */
  arm(crash: { freeze(): void; kill(): Promise<void> }): Promise<void>;
  close(): Promise<void>;
}

/** `answer` gives the status and body for a request (forwarding it to a real partner, say). */
export async function startCrashStub(
  port: number,
  answer: (body: string, path: string) => Promise<{ status: number; body: string }>,
): Promise<CrashStub> {
  const seen: StubExchange[] = [];
  let armed: { freeze(): void; kill(): Promise<void>; done(): void } | undefined;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      answer(body, req.url ?? '')
        .then((a) => {
          seen.push({
            at: Date.now(),
            path: req.url ?? '',
            headers: req.headers,
            body,
            status: a.status,
            answer: a.body,
          });
          const crash = armed;
          armed = undefined;
          if (crash !== undefined) {
            crash.freeze();
            res.once('finish', () => void crash.kill().then(crash.done));
          }
          res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body);
        })
        .catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    seen,
    arm: (crash) =>
      new Promise<void>((resolve) => {
        armed = { ...crash, done: resolve };
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
