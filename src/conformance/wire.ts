/**
 * The kit's HTTP client of the target: its TLS server checked against the target's anchors and issuing CAs,
 * the kit's TLS certificate as client certificate (or none, to see it refused), every answer read whole up to
 * a bound and parsed with the one strict JSON reader.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Agent, type Dispatcher, request } from 'undici';
import { parseJsonDocument } from '../crypto/strict-json.ts';
import type { Partner } from '../mra/types.ts';

export interface WireResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Media type without parameters, lower case; '' when absent. */
  mediaType: string;
  text: string;
  /** The strictly parsed JSON body; undefined with `jsonError` when it is not JSON. */
  json: unknown;
  jsonError: string | undefined;
}

export interface WireRequest {
  method: 'GET' | 'POST';
  /** Below the target's endpoint (`/records`, `/feed?limit=2`). */
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** false: connect without a client certificate. */
  clientCertificate?: boolean;
}

export interface Wire {
  send(req: WireRequest): Promise<WireResponse>;
  /**
   * POSTs a body the target should refuse before reading it whole: the answer is kept even when the target
   * closes the connection while the body is still being written.
   */
  sendOversized(path: string, body: Uint8Array): Promise<WireResponse>;
  close(): Promise<void>;
}

/** A failure to exchange at all (refused, reset, TLS handshake, timeout), as opposed to an HTTP answer. */
export class WireFailure extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

const MAX_ANSWER_BYTES = 64 * 1024 * 1024;
/** How long an oversized request's head waits for an early answer before its body follows. */
const HEAD_FIRST_MS = 2_000;

export function createWire(
  target: Partner,
  tls: { certificatePem: string; keyPem: string } | undefined,
  timeoutMs: number,
): Wire {
  const ca = [...target.trust.anchors, ...target.intermediates].map((c) => c.x509.toString());
  const options = (withCert: boolean) =>
    new Agent({
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connectTimeout: Math.min(timeoutMs, 10_000),
      connect: { ca, ...(withCert && tls ? { cert: tls.certificatePem, key: tls.keyPem } : {}) },
    });
  const withCert = options(true);
  const without = options(false);

  /**
   * A target's rate limit is its own choice, not a conformance matter: a `429` is waited out as its
   * `Retry-After` says (at most a minute, three times), then the request is made again.
   */
  async function send(req: WireRequest): Promise<WireResponse> {
    for (let attempt = 0; ; attempt += 1) {
      const res = await sendOnce(req);
      const wait = Number(res.headers['retry-after']);
      if (res.status !== 429 || attempt >= 3 || !Number.isInteger(wait) || wait < 0 || wait > 60) return res;
      await new Promise((resolve) => setTimeout(resolve, wait * 1000 + 100));
    }
  }

  async function sendOnce(req: WireRequest): Promise<WireResponse> {
    const dispatcher: Dispatcher = req.clientCertificate === false ? without : withCert;
    let response: Dispatcher.ResponseData;
    try {
      response = await request(`${target.endpoint}${req.path}`, {
        method: req.method,
        dispatcher,
        headers: req.headers ?? {},
        ...(req.body !== undefined ? { body: req.body } : {}),
        signal: AbortSignal.timeout(4 * timeoutMs),
      });
    } catch (error) {
      throw failureOf(error);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) {
          response.body.destroy();
          throw new WireFailure('TOO_LARGE', `answer over ${MAX_ANSWER_BYTES} bytes`);
        }
        chunks.push(chunk);
      }
    } catch (error) {
      throw failureOf(error);
    }
    const bytes = Buffer.concat(chunks);
    const contentType = response.headers['content-type'];
    const mediaType = (typeof contentType === 'string' ? contentType : '')
      .split(';')[0]!
      .trim()
      .toLowerCase();
    const parsed = bytes.length > 0 ? parseJsonDocument(bytes) : undefined;
    return {
      status: response.statusCode,
      headers: response.headers,
      mediaType,
      text: bytes.toString('utf8'),
      json: parsed?.ok ? parsed.value : undefined,
      jsonError: parsed === undefined ? 'empty body' : parsed.ok ? undefined : parsed.detail,
    };
  }

  function sendOversized(path: string, body: Uint8Array): Promise<WireResponse> {
    const url = new URL(`${target.endpoint}${path}`);
    const tlsOptions =
      url.protocol === 'https:' ? { ca, ...(tls ? { cert: tls.certificatePem, key: tls.keyPem } : {}) } : {};
    return new Promise((resolve, reject) => {
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
        timeout: timeoutMs,
        ...tlsOptions,
      });
      // The head goes first: a target that refuses by the announced length answers before the body is sent,
      // and its answer is read before it closes; one that waits for the body gets it after a short pause.
      const sendBody = setTimeout(() => req.end(body), HEAD_FIRST_MS);
      req.on('response', (res) => {
        clearTimeout(sendBody);
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve(responseOf(res.statusCode ?? 0, res.headers, Buffer.concat(chunks)));
          req.destroy();
        });
        res.on('error', (error) => reject(failureOf(error)));
      });
      req.on('timeout', () => req.destroy(new WireFailure('TIMEOUT', `no answer within ${timeoutMs} ms`)));
      // A write that fails because the target already answered and closed is what a limit looks like; only a
      // connection that ends without any answer is a failure.
      req.on('error', (error) => {
        clearTimeout(sendBody);
        setTimeout(() => reject(failureOf(error)), 1_000);
      });
      req.flushHeaders();
    });
  }

  return {
    send,
    sendOversized,
    async close() {
      await Promise.all([withCert.close(), without.close()]);
    },
  };
}

function responseOf(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  bytes: Buffer,
): WireResponse {
  const contentType = headers['content-type'];
  const mediaType = (typeof contentType === 'string' ? contentType : '').split(';')[0]!.trim().toLowerCase();
  const parsed = bytes.length > 0 ? parseJsonDocument(bytes) : undefined;
  return {
    status,
    headers,
    mediaType,
    text: bytes.toString('utf8'),
    json: parsed?.ok ? parsed.value : undefined,
    jsonError: parsed === undefined ? 'empty body' : parsed.ok ? undefined : parsed.detail,
  };
}

function failureOf(error: unknown): WireFailure {
  if (error instanceof WireFailure) return error;
  const e = error as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  const code = String(e.code ?? e.cause?.code ?? 'ERROR');
  const message = String(e.cause?.message ?? e.message ?? error);
  return new WireFailure(code, `${code}: ${message}`);
}

/** One line on an answer: status, media type, problem code or first characters. */
export function describe(res: WireResponse): string {
  const body = res.json as { code?: unknown } | undefined;
  const code = typeof body?.code === 'string' ? ` ${body.code}` : '';
  const media = res.mediaType === '' ? 'no content type' : res.mediaType;
  return `HTTP ${res.status}${code} (${media})`;
}

/**
 * Why `res` is not the RFC 9457 problem document the protocol prescribes for `status` and `code`, or undefined
 * when it is (docs/protocol.md, problem documents).
 */
export function problemMismatch(res: WireResponse, status: number, code: string): string | undefined {
  if (res.status !== status) return `${describe(res)}, not ${status}`;
  if (res.mediaType !== 'application/problem+json') return `${describe(res)}: not application/problem+json`;
  const p = res.json as Record<string, unknown> | undefined;
  if (p === undefined || typeof p !== 'object' || p === null || Array.isArray(p)) {
    return `${describe(res)}: body is not a JSON object (${res.jsonError ?? 'not an object'})`;
  }
  if (p.code !== code) return `${describe(res)}: code ${String(p.code)}, not ${code}`;
  const type = `urn:mra-exchange:problem:${code.toLowerCase().replaceAll('_', '-')}`;
  if (p.type !== type) return `${describe(res)}: type ${String(p.type)}, not ${type}`;
  if (p.status !== status) return `${describe(res)}: member status ${String(p.status)}`;
  if (typeof p.title !== 'string' || typeof p.detail !== 'string') {
    return `${describe(res)}: title or detail missing`;
  }
  return undefined;
}
