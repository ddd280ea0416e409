/** HTTP client for a partner's gateway: mutual TLS with the home TLS certificate, bounded timeouts. */
import { Agent, request } from 'undici';
import type { Partner } from '../config/types.ts';
import type { ChainCache } from '../crypto/chain.ts';
import type { Receipt } from '../inbound/receipt.ts';
import { checkReceipt, DELIVERED_OUTCOMES } from './receipt-check.ts';

export interface ClientTls {
  certificatePem: string;
  keyPem: string;
}

export type SendResult =
  | { ok: true; receipt: Receipt; receiptJws: string; delivered: boolean[] }
  | { ok: false; status: number; reason: string; retryAfter: string | undefined };

export interface PartnerClient {
  sendRecords(records: readonly string[]): Promise<SendResult>;
  getJson(path: string): Promise<{ status: number; body: unknown }>;
  /** GET with `Authorization` (feed, snapshot: a request token); the body read up to `maxBytes`. */
  getAuthorized(path: string, authorization: string, maxBytes?: number): Promise<AuthorizedGet>;
  close(): Promise<void>;
}

/** `body` is the parsed JSON; `error` says why there is none (not JSON, over the size bound). */
export interface AuthorizedGet {
  status: number;
  body: unknown;
  error: string | undefined;
}

/**
 * 1,000 records of about 2 KB (one certificate in x5c) are 2 MiB; with three RSA-4096 certificates each, about
 * 25 MiB. Beyond this bound the partner is broken, and what it sends is not held in memory.
 */
const MAX_GET_BYTES = 64 * 1024 * 1024;

export function createPartnerClient(
  home: string,
  partner: Partner,
  options: { tls?: ClientTls | undefined; timeoutMs?: number; cache?: ChainCache } = {},
): PartnerClient {
  const timeout = options.timeoutMs ?? 30_000;
  const agent = new Agent({
    headersTimeout: timeout,
    bodyTimeout: timeout,
    connectTimeout: Math.min(timeout, 10_000),
    connect: {
      ca: partner.trust.anchors.map((a) => a.x509.toString()),
      ...(options.tls ? { cert: options.tls.certificatePem, key: options.tls.keyPem } : {}),
    },
  });

  async function sendRecords(records: readonly string[]): Promise<SendResult> {
    const response = await request(`${partner.endpoint}/records`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ records }),
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) {
      const retryAfter = response.headers['retry-after'];
      return {
        ok: false,
        status: response.statusCode,
        reason: text.slice(0, 500),
        retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
      };
    }
    let receiptJws: unknown;
    try {
      receiptJws = (JSON.parse(text) as { receipt?: unknown }).receipt;
    } catch {
      return { ok: false, status: 200, reason: 'response is not JSON', retryAfter: undefined };
    }
    const checked = await checkReceipt(receiptJws, records, {
      home,
      partner,
      at: new Date(),
      ...(options.cache ? { cache: options.cache } : {}),
    });
    if (!checked.ok) {
      return {
        ok: false,
        status: 200,
        reason: `receipt refused: ${checked.code}: ${checked.detail}`,
        retryAfter: undefined,
      };
    }
    return {
      ok: true,
      receipt: checked.receipt,
      receiptJws: receiptJws as string,
      delivered: checked.receipt.results.map((r) => DELIVERED_OUTCOMES.has(r.outcome)),
    };
  }

  async function getJson(path: string) {
    const response = await request(`${partner.endpoint}${path}`, { method: 'GET', dispatcher: agent });
    return { status: response.statusCode, body: (await response.body.json()) as unknown };
  }

  async function getAuthorized(path: string, authorization: string, maxBytes = MAX_GET_BYTES) {
    const response = await request(`${partner.endpoint}${path}`, {
      method: 'GET',
      dispatcher: agent,
      headers: { authorization, accept: 'application/json' },
    });
    // Read with a bound: what a partner answers is untrusted and must not exhaust memory (I6).
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        response.body.destroy();
        return { status: response.statusCode, body: undefined, error: `response over ${maxBytes} bytes` };
      }
      chunks.push(chunk);
    }
    try {
      return {
        status: response.statusCode,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown,
        error: undefined,
      };
    } catch {
      return { status: response.statusCode, body: undefined, error: 'response is not JSON' };
    }
  }

  return { sendRecords, getJson, getAuthorized, close: () => agent.close() };
}
