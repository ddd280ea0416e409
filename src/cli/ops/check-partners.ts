/**
 * The checks of `check` that reach each partner as the gateway will: a TLS handshake with the home TLS
 * certificate as client certificate against the partner's anchors, its `.well-known/mra-gateway` (who it
 * says it is, keys that chain to its anchors), and a feed page asked for with a fresh request token.
 */
import { isIP } from 'node:net';
import { connect } from 'node:tls';
import type { GatewayConfig } from '../../config/types.ts';
import { validateChain } from '../../crypto/chain.ts';
import type { Partner } from '../../mra/types.ts';
import { createPartnerClient } from '../../partner-client/client.ts';
import { createPartnerFetcher } from '../../partner-client/fetch.ts';
import type { CheckLine } from './check-local.ts';

const PROTOCOL = 'mra-exchange/1';
const why = (error: unknown) => {
  const e = error as { code?: unknown; message?: unknown };
  return [e.code, e.message].filter((v) => typeof v === 'string' && v !== '').join(': ') || String(error);
};

export async function partnerChecks(
  config: GatewayConfig,
  partner: Partner,
  timeoutMs: number,
): Promise<CheckLine[]> {
  const lines = [await handshake(config, partner, timeoutMs)];
  const client = createPartnerClient(config.home.adminId, partner, {
    tls: config.server.tls,
    timeoutMs,
  });
  try {
    lines.push(await wellKnown(partner, () => client.getJson('/.well-known/mra-gateway')));
  } finally {
    await client.close();
  }
  const fetcher = createPartnerFetcher({
    ...config,
    outbound: { ...config.outbound, requestTimeoutMs: timeoutMs },
  });
  try {
    const what = `partner ${partner.adminId} request token`;
    const page = await fetcher.get(partner, '/feed?limit=1');
    lines.push(
      page.ok
        ? { ok: true, what, detail: 'GET /feed with a fresh request token: 200, accepted' }
        : { ok: false, what, detail: `GET /feed with a fresh request token: ${page.reason}` },
    );
  } finally {
    await fetcher.close();
  }
  return lines;
}

function handshake(config: GatewayConfig, partner: Partner, timeoutMs: number): Promise<CheckLine> {
  const what = `partner ${partner.adminId} TLS`;
  let url: URL;
  try {
    url = new URL(partner.endpoint);
  } catch {
    return Promise.resolve({ ok: false, what, detail: `endpoint ${partner.endpoint} is not a URL` });
  }
  if (url.protocol === 'http:') {
    return Promise.resolve({
      ok: true,
      what,
      detail: `${partner.endpoint} is plain http: no TLS (development only)`,
    });
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);
  const tls = config.server.tls;
  return new Promise((resolve) => {
    const socket = connect({
      host,
      port,
      ...(isIP(host) === 0 ? { servername: host } : {}),
      ca: [...partner.trust.anchors, ...partner.intermediates].map((c) => c.x509.toString()),
      ...(tls ? { cert: tls.certificatePem, key: tls.keyPem } : {}),
      timeout: timeoutMs,
    });
    const done = (line: CheckLine) => {
      socket.destroy();
      resolve(line);
    };
    socket.once('secureConnect', () => {
      const peer = socket.getPeerCertificate();
      const subject = peer?.subject?.CN ?? '(no common name)';
      done({
        ok: true,
        what,
        detail: `${host}:${port} ${socket.getProtocol() ?? 'TLS'}, server ${subject} chains to the anchors, valid until ${peer?.valid_to ?? '?'}${tls ? ', our client certificate sent' : ', no client certificate (mutual TLS off here)'}`,
      });
    });
    socket.once('timeout', () =>
      done({ ok: false, what, detail: `${host}:${port}: no handshake within ${timeoutMs} ms` }),
    );
    socket.once('error', (error) => done({ ok: false, what, detail: `${host}:${port}: ${why(error)}` }));
  });
}

async function wellKnown(
  partner: Partner,
  get: () => Promise<{ status: number; body: unknown }>,
): Promise<CheckLine> {
  const what = `partner ${partner.adminId} .well-known`;
  let answer: { status: number; body: unknown };
  try {
    answer = await get();
  } catch (error) {
    return { ok: false, what, detail: why(error) };
  }
  if (answer.status !== 200)
    return { ok: false, what, detail: `GET /.well-known/mra-gateway answered ${answer.status}` };
  const body = answer.body as { adminId?: unknown; protocol?: unknown; keys?: { keys?: unknown } } | null;
  if (body?.adminId !== partner.adminId) {
    return {
      ok: false,
      what,
      detail: `says it is ${JSON.stringify(body?.adminId)}, configured as ${partner.adminId}`,
    };
  }
  if (body.protocol !== PROTOCOL) {
    return { ok: false, what, detail: `speaks ${JSON.stringify(body.protocol)}, this gateway ${PROTOCOL}` };
  }
  const keys = Array.isArray(body.keys?.keys) ? (body.keys.keys as { x5c?: unknown; kid?: unknown }[]) : [];
  const now = new Date();
  const trusted = keys.filter((k) => {
    if (!Array.isArray(k.x5c) || !k.x5c.every((c) => typeof c === 'string')) return false;
    const chain = (k.x5c as string[]).map((c) => new Uint8Array(Buffer.from(c, 'base64')));
    return validateChain(chain, partner.trust, now, 'signing').ok;
  });
  if (trusted.length === 0) {
    return {
      ok: false,
      what,
      detail: `${keys.length} signing key(s) published, none chains to the configured anchors`,
    };
  }
  return {
    ok: true,
    what,
    detail: `${partner.adminId}, ${PROTOCOL}, ${trusted.length} of ${keys.length} signing key(s) chain to the anchors`,
  };
}
