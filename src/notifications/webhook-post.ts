/**
 * Webhook POSTs: the receiver checked by the policy (its name resolved once per session), then connections to
 * exactly the addresses checked, with TLS verified against the URL's host, no redirect followed. A session's
 * kept-alive connections serve the next session to the same origin for a moment after it ends, but only when
 * that session's own check found exactly the same addresses: every request goes to an address checked for
 * it, and a job does not pay a new connection (a TLS handshake) per receiver. What the subscriber may see of a
 * failure is its class alone; the detail (address, port, errno, TLS reason) is for the gateway's log, so that
 * the delivery listing is no port scanner of the gateway's network.
 */
import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, request } from 'undici';
import type { CheckedReceiver, ReceiverPolicy } from './receiver-policy.ts';

export const FAILURE_CLASSES = [
  'timeout',
  'refused',
  'tls',
  'http-3xx',
  'http-4xx',
  'http-5xx',
  'refused-address',
  'network',
  'gateway',
] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

export type PostOutcome = { ok: true } | { ok: false; failure: FailureClass; detail: string };

export interface PosterOptions {
  policy: ReceiverPolicy;
  /** Bound on connecting, on the answer's headers and on its body. */
  timeoutMs: number;
  /** Extra CA certificates (PEM) to verify receivers with; tests only, the system's CAs otherwise. */
  ca?: string;
}

/** How long a receiver's connections outlive its last session, for the next one to the same addresses. */
export const KEEP_IDLE_MS = 1_000;

export type WebhookPoster = (
  url: string,
  headers: Record<string, string>,
  body: string,
) => Promise<PostOutcome>;

const ANSWER_KEPT_BYTES = 64 * 1024;

/** Requests to one receiver over connections to the addresses checked when it was opened; closed after use. */
export interface WebhookSession {
  post(headers: Record<string, string>, body: string): Promise<PostOutcome>;
  close(): void;
}

export type OpenOutcome =
  | { ok: true; session: WebhookSession }
  | { ok: false; failure: FailureClass; detail: string };

/**
 * Opens a session with a receiver: its URL checked by the policy (its name resolved once), then up to
 * `connections` kept-alive connections to exactly the addresses checked. The connections of sessions that
 * ended are used again by a session whose check found the same origin, the same addresses and asked for as
 * many connections, for `keepIdleMs` after the last one ended (0: never); after a failed request they are not.
 */
export function createWebhookSessions(
  options: PosterOptions & { keepIdleMs?: number },
): (url: string, connections: number) => Promise<OpenOutcome> {
  const { policy, timeoutMs } = options;
  const keepIdleMs = options.keepIdleMs ?? KEEP_IDLE_MS;
  interface Shared {
    agent: Agent;
    sessions: number;
    reusable: boolean;
    idle?: NodeJS.Timeout;
  }
  const shared = new Map<string, Shared>();
  const release = (key: string, entry: Shared) => {
    entry.sessions -= 1;
    if (entry.sessions > 0) return;
    const drop = () => {
      if (shared.get(key) === entry) shared.delete(key);
      entry.agent.destroy().catch(() => {});
    };
    if (!entry.reusable || keepIdleMs <= 0) return drop();
    entry.idle = setTimeout(drop, keepIdleMs);
    entry.idle.unref();
  };
  const agentFor = (receiver: CheckedReceiver, connections: number): [string, Shared] => {
    const key = `${connections} ${receiver.url.origin} ${receiver.addresses.join(' ')}`;
    const found = shared.get(key);
    if (found?.reusable) {
      clearTimeout(found.idle);
      found.sessions += 1;
      return [key, found];
    }
    const agent = new Agent({
      connections,
      pipelining: 1,
      connect: {
        timeout: timeoutMs,
        lookup: pinnedLookup(receiver.addresses),
        ...(options.ca === undefined ? {} : { ca: options.ca }),
      },
    });
    const entry: Shared = { agent, sessions: 1, reusable: true };
    shared.set(key, entry);
    return [key, entry];
  };
  return async (url, connections) => {
    const checked = await policy.check(url);
    if (!checked.ok) {
      return {
        ok: false,
        failure: checked.reason === 'unresolved' ? 'network' : 'refused-address',
        detail: checked.detail,
      };
    }
    const { receiver } = checked;
    const [key, entry] = agentFor(receiver, connections);
    const { agent } = entry;
    const sent = async (headers: Record<string, string>, body: string): Promise<PostOutcome> => {
      try {
        const res = await request(receiver.url, {
          method: 'POST',
          headers,
          body,
          dispatcher: agent,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        // The status decides; the body is drained only within one more bound, since bodyTimeout is per chunk and
        // a receiver trickling a byte at a time would otherwise hold this delivery for hours.
        await res.body
          .dump({ limit: ANSWER_KEPT_BYTES, signal: AbortSignal.timeout(timeoutMs) })
          .catch(() => {});
        const status = res.statusCode;
        if (status >= 200 && status < 300) return { ok: true };
        return { ok: false, failure: statusClass(status), detail: `HTTP ${status}` };
      } catch (error) {
        return { ok: false, failure: errorClass(error), detail: detailOf(error) };
      }
    };
    let closed = false;
    return {
      ok: true,
      session: {
        async post(headers, body) {
          const outcome = await sent(headers, body);
          // A connection that failed or a receiver that answered otherwise is met afresh by the next session.
          if (!outcome.ok) entry.reusable = false;
          return outcome;
        },
        close: () => {
          if (closed) return;
          closed = true;
          release(key, entry);
        },
      },
    };
  };
}

/** One POST in a session of its own, its connection closed after it. */
export function createWebhookPoster(options: PosterOptions): WebhookPoster {
  const open = createWebhookSessions({ ...options, keepIdleMs: 0 });
  return async (url, headers, body) => {
    const opened = await open(url, 1);
    if (!opened.ok) return opened;
    try {
      return await opened.session.post(headers, body);
    } finally {
      opened.session.close();
    }
  };
}

function statusClass(status: number): FailureClass {
  if (status >= 300 && status < 400) return 'http-3xx';
  if (status >= 400 && status < 500) return 'http-4xx';
  if (status >= 500 && status < 600) return 'http-5xx';
  return 'network';
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

/** The class of a failed request, from the error or the first cause that has a code. */
export function errorClass(error: unknown): FailureClass {
  for (const code of codesOf(error)) {
    if (TIMEOUT_CODES.has(code)) return 'timeout';
    if (code === 'ECONNREFUSED') return 'refused';
    if (
      code.startsWith('ERR_TLS') ||
      code.startsWith('ERR_SSL') ||
      /CERT|SELF_SIGNED|UNABLE_TO_/.test(code)
    ) {
      return 'tls';
    }
  }
  return 'network';
}

function codesOf(error: unknown, depth = 0): string[] {
  if (typeof error !== 'object' || error === null || depth > 4) return [];
  const e = error as { code?: unknown; cause?: unknown; errors?: unknown };
  const own = typeof e.code === 'string' ? [e.code] : [];
  const inner = Array.isArray(e.errors) ? e.errors.flatMap((x) => codesOf(x, depth + 1)) : [];
  return [...own, ...inner, ...codesOf(e.cause, depth + 1)];
}

function detailOf(error: unknown): string {
  const parts: string[] = [];
  let e: unknown = error;
  for (let i = 0; i < 4 && e instanceof Error; i += 1) {
    const code = (e as { code?: unknown }).code;
    parts.push(typeof code === 'string' ? `${code}: ${e.message}` : e.message);
    e = e.cause;
  }
  return (parts.join(' <- ') || String(error)).slice(0, 500);
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** A lookup that answers the addresses already checked, whatever it is asked: the socket cannot go elsewhere. */
function pinnedLookup(addresses: readonly string[]) {
  const entries: LookupAddress[] = addresses.map((address) => ({ address, family: isIP(address) }));
  return (_host: string, options: LookupOptions | number, callback: LookupCallback): void => {
    if (typeof options === 'object' && options.all === true) callback(null, entries);
    else callback(null, entries[0]!.address, entries[0]!.family);
  };
}
