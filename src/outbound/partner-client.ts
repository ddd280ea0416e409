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
  close(): Promise<void>;
}

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

  return { sendRecords, getJson, close: () => agent.close() };
}
