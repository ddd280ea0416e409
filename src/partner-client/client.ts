/** HTTP client for a partner's gateway: mutual TLS with the home TLS certificate, bounded timeouts. */
import { Agent, type Dispatcher, request } from 'undici';
import type { ChainCache } from '../crypto/chain-cache.ts';
import { parseJsonDocument } from '../crypto/strict-json.ts';
import type { Partner } from '../mra/types.ts';
import type { Receipt } from '../protocol/receipt.ts';
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
  /** POST /monitoring: the same exchange and receipt check as records, for monitoring summaries. */
  sendSummaries(summaries: readonly string[]): Promise<SendResult>;
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

/** How many request timeouts one whole exchange with a partner may last, answer read to its end. */
const EXCHANGE_TIMEOUTS = 4;

/** A receipt for 1,000 records, each with a rejection detail, and three certificates stays under 2 MiB. */
const MAX_SEND_ANSWER_BYTES = 8 * 1024 * 1024;

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
      // The issuing CAs complete the path when the partner's server sends its leaf alone; the path must still
      // end at one of the anchors. `cert` is the home TLS chain file (leaf, issuing CA): all of it is sent.
      ca: [...partner.trust.anchors, ...partner.intermediates].map((c) => c.x509.toString()),
      ...(options.tls ? { cert: options.tls.certificatePem, key: options.tls.keyPem } : {}),
    },
  });

  // headersTimeout and bodyTimeout bound each wait, not the exchange: a partner trickling its answer a byte at a
  // time would hold a delivery or a pull (and the shutdown that waits for it) for ever. This bounds it end to
  // end, with room for a large feed page on a slow link.
  const exchangeDeadline = () => AbortSignal.timeout(EXCHANGE_TIMEOUTS * timeout);

  async function send(path: '/records' | '/monitoring', records: readonly string[]): Promise<SendResult> {
    const member = path === '/records' ? 'records' : 'summaries';
    const response = await request(`${partner.endpoint}${path}`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ [member]: records }),
      signal: exchangeDeadline(),
    });
    const bytes = await readBounded(response.body, MAX_SEND_ANSWER_BYTES);
    if (bytes === undefined) {
      const reason = `response over ${MAX_SEND_ANSWER_BYTES} bytes`;
      return { ok: false, status: response.statusCode, reason, retryAfter: undefined };
    }
    if (response.statusCode !== 200) {
      const retryAfter = response.headers['retry-after'];
      return {
        ok: false,
        status: response.statusCode,
        reason: bytes.subarray(0, 500).toString('utf8'),
        retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
      };
    }
    const envelope = parseJsonDocument(bytes);
    if (!envelope.ok) {
      const reason = `response is not JSON: ${envelope.detail}`;
      return { ok: false, status: 200, reason, retryAfter: undefined };
    }
    const receiptJws = (envelope.value as { receipt?: unknown } | null)?.receipt;
    const checked = await checkReceipt(receiptJws, records, {
      home,
      partner,
      names: path === '/records' ? 'recordId' : 'summaryId',
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
    const response = await request(`${partner.endpoint}${path}`, {
      method: 'GET',
      dispatcher: agent,
      signal: exchangeDeadline(),
    });
    const bytes = await readBounded(response.body, MAX_GET_BYTES);
    if (bytes === undefined) throw new Error(`the partner's answer is over ${MAX_GET_BYTES} bytes`);
    const parsed = parseJsonDocument(bytes);
    if (!parsed.ok) throw new Error(`the partner's answer is not JSON: ${parsed.detail}`);
    return { status: response.statusCode, body: parsed.value };
  }

  async function getAuthorized(path: string, authorization: string, maxBytes = MAX_GET_BYTES) {
    const response = await request(`${partner.endpoint}${path}`, {
      method: 'GET',
      dispatcher: agent,
      headers: { authorization, accept: 'application/json' },
      signal: exchangeDeadline(),
    });
    const bytes = await readBounded(response.body, maxBytes);
    if (bytes === undefined) {
      return { status: response.statusCode, body: undefined, error: `response over ${maxBytes} bytes` };
    }
    // Strict, like every JSON the gateway reads: a duplicate member in a partner's page is a protocol error.
    const parsed = parseJsonDocument(bytes);
    return parsed.ok
      ? { status: response.statusCode, body: parsed.value, error: undefined }
      : {
          status: response.statusCode,
          body: undefined,
          error: `response is not JSON: ${parsed.detail}`,
        };
  }

  return {
    sendRecords: (records) => send('/records', records),
    sendSummaries: (summaries) => send('/monitoring', summaries),
    getJson,
    getAuthorized,
    close: () => agent.close(),
  };
}

/**
 * Every answer of a partner is read through here, up to `maxBytes`: what a partner sends is untrusted and must
 * not exhaust memory (I6). Undefined, with the connection dropped, when the answer is longer.
 */
async function readBounded(
  body: Dispatcher.ResponseData['body'],
  maxBytes: number,
): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
