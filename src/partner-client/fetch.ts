/**
 * The receiving side's reads of a partner's `feed` and `snapshot`: one HTTP client per partner (the home TLS
 * certificate as client certificate, bounded timeouts), and a fresh request token on every request, since a
 * token's `jti` is good for one request only (docs/protocol.md, Endpoints).
 */
import type { GatewayConfig } from '../config/types.ts';
import type { Partner } from '../mra/types.ts';
import { createPartnerClient, type PartnerClient } from './client.ts';
import { signRequestToken } from './request-token.ts';

export type FetchResult = { ok: true; body: unknown } | { ok: false; reason: string };

export interface PartnerFetcher {
  /** GETs `path` (below the partner's /mra/v1) and returns the JSON of a 200, or why there is none. */
  get(partner: Partner, path: string): Promise<FetchResult>;
  close(): Promise<void>;
}

/** Problem details are for people; a hostile partner's must not fill the store or the logs. */
const MAX_REASON = 300;

export function createPartnerFetcher(config: GatewayConfig): PartnerFetcher {
  const clients = new Map<string, PartnerClient>();
  const home = config.home.adminId;
  const tls = config.server.tls;

  function clientFor(partner: Partner): PartnerClient {
    let client = clients.get(partner.adminId);
    if (client === undefined) {
      client = createPartnerClient(home, partner, {
        ...(tls ? { tls: { certificatePem: tls.certificatePem, keyPem: tls.keyPem } } : {}),
        timeoutMs: config.outbound.requestTimeoutMs,
      });
      clients.set(partner.adminId, client);
    }
    return client;
  }

  async function get(partner: Partner, path: string): Promise<FetchResult> {
    try {
      const token = await signRequestToken(config.home.signers[0]!, { iss: home, aud: partner.adminId });
      const res = await clientFor(partner).getAuthorized(path, `MRA ${token}`);
      if (res.status !== 200)
        return { ok: false, reason: clip(`HTTP ${res.status} ${problemText(res.body)}`) };
      if (res.error !== undefined) return { ok: false, reason: res.error };
      return { ok: true, body: res.body };
    } catch (error) {
      // Connection refused, reset, timed out: the partner is unreachable, which is not this gateway's fault.
      const e = error as { code?: unknown; message?: unknown };
      return { ok: false, reason: clip(`${String(e.code ?? 'ERROR')}: ${String(e.message ?? error)}`) };
    }
  }

  return {
    get,
    async close() {
      await Promise.all([...clients.values()].map((c) => c.close()));
      clients.clear();
    },
  };
}

function problemText(body: unknown): string {
  if (typeof body !== 'object' || body === null) return '';
  const { code, detail } = body as { code?: unknown; detail?: unknown };
  return [code, detail].filter((v) => typeof v === 'string').join(': ');
}

function clip(text: string): string {
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON)}…` : text;
}
