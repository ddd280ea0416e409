/**
 * Transport and the gateway description (docs/protocol.md, Transport, Who sent a request, `.well-known`):
 * mutual TLS, media type, body limits, strict envelopes and problem documents; the description present, in
 * shape, and its keys the target's certificates.
 */
import { createHash } from 'node:crypto';
import { validateChain } from '../crypto/chain.ts';
import { ALLOWED_ALGORITHMS } from '../crypto/types.ts';
import { type Kit, Results, type Section } from './types.ts';
import { describe, problemMismatch, WireFailure, type WireResponse } from './wire.ts';

const JSON_TYPE = { 'content-type': 'application/json' };
/** One byte over 10 MiB and a little more. */
const OVER_LIMIT = 10 * 1024 * 1024 + 1024;

async function postRecords(kit: Kit, body: string | Uint8Array, contentType = 'application/json') {
  return kit.wire.send({ method: 'POST', path: '/records', headers: { 'content-type': contentType }, body });
}

/** An answer, or the failure to get one, as one line; never throws. */
async function attempt(f: () => Promise<WireResponse>): Promise<WireResponse | WireFailure> {
  try {
    return await f();
  } catch (error) {
    return error instanceof WireFailure ? error : new WireFailure('ERROR', String(error));
  }
}

const gotOf = (r: WireResponse | WireFailure) =>
  r instanceof WireFailure ? `no answer: ${r.message}` : describe(r);

function problemCheck(r: WireResponse | WireFailure, status: number, code: string): string | undefined {
  return r instanceof WireFailure ? gotOf(r) : problemMismatch(r, status, code);
}

/** A TLS alert (certificate required, handshake failure, unknown CA…), in Node's or OpenSSL's words. */
const TLS_ALERT = /^ERR_SSL_|\balert\b/i;
const TIMEOUT = /TIMEOUT|timed? ?out/i;
/** The server closing the connection: how a TLS 1.3 server's refusal after the handshake reaches the client. */
const RESET = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

/**
 * Why a connection failure without a client certificate does NOT show the target requires one, or undefined
 * when it does: a TLS alert, or the connection reset by the target during or right after the handshake. A
 * timeout, a refused connection or anything else says nothing about mutual TLS.
 */
export function handshakeRefusal(failure: Pick<WireFailure, 'code' | 'message'>): string | undefined {
  const timedOut = TIMEOUT.test(failure.code) || TIMEOUT.test(failure.message);
  const alert = TLS_ALERT.test(failure.code) || TLS_ALERT.test(failure.message);
  if (!timedOut && (alert || RESET.has(failure.code))) return undefined;
  return `no TLS refusal, the connection failed otherwise: ${failure.message}`;
}

export const transportSection: Section = {
  name: 'transport',
  about: 'mutual TLS, media type, body limit, strict envelopes, problem documents',
  async run(kit) {
    const out = new Results('transport');
    const oneRecord = JSON.stringify({ records: ['conformance.kit.not-a-jws'] });

    if (!kit.target.endpoint.startsWith('https:')) {
      out.add(
        'mtls-required',
        'SKIP',
        'POST /records without a client certificate',
        'connection refused',
        'the target URL is http: mutual TLS cannot be checked (production is HTTPS with mutual TLS)',
      );
    } else {
      const r = await attempt(() =>
        kit.wire.send({
          method: 'POST',
          path: '/records',
          headers: JSON_TYPE,
          body: oneRecord,
          clientCertificate: false,
        }),
      );
      const refused =
        r instanceof WireFailure
          ? handshakeRefusal(r)
          : problemMismatch(r, 401, 'PARTNER_UNKNOWN') === undefined
            ? undefined
            : `answered without a client certificate: ${describe(r)}`;
      out.judge(
        'mtls-required',
        'POST /records over TLS without a client certificate',
        'the TLS handshake fails (or 401 PARTNER_UNKNOWN)',
        refused,
        r instanceof WireFailure ? `refused: ${r.code}` : describe(r as WireResponse),
      );
    }

    const plain = await attempt(() => postRecords(kit, oneRecord, 'text/plain'));
    out.judge(
      'content-type',
      'POST /records as text/plain',
      '415 UNSUPPORTED_MEDIA_TYPE problem',
      problemCheck(plain, 415, 'UNSUPPORTED_MEDIA_TYPE'),
      gotOf(plain),
    );

    const big = Buffer.alloc(OVER_LIMIT, 0x61);
    Buffer.from('{"records":["').copy(big, 0);
    Buffer.from('"]}').copy(big, OVER_LIMIT - 3);
    const large = await attempt(() => kit.wire.sendOversized('/records', big));
    out.judge(
      'body-limit',
      `POST /records of ${OVER_LIMIT} bytes (over 10 MiB)`,
      '413 BODY_TOO_LARGE problem',
      problemCheck(large, 413, 'BODY_TOO_LARGE'),
      gotOf(large),
    );

    const envelopes: [string, string, string][] = [
      ['empty-batch', '{"records":[]}', 'an empty records array'],
      ['duplicate-member', '{"records":["a.b.c"],"records":["d.e.f"]}', 'records twice in one body'],
      ['extra-member', '{"records":["a.b.c"],"note":1}', 'a member besides records'],
      ['not-strings', '{"records":[1]}', 'a record that is not a string'],
      ['proto-member', '{"records":["a.b.c"],"__proto__":{}}', 'a __proto__ member'],
    ];
    for (const [name, body, what] of envelopes) {
      const r = await attempt(() => postRecords(kit, body));
      out.judge(
        name,
        `POST /records with ${what}`,
        '400 BODY_INVALID problem',
        problemCheck(r, 400, 'BODY_INVALID'),
        gotOf(r),
      );
    }

    const missing = await attempt(() => kit.wire.send({ method: 'GET', path: '/conformance-no-such-route' }));
    out.judge(
      'not-found',
      'GET /mra/v1/conformance-no-such-route',
      '404 NOT_FOUND problem',
      problemCheck(missing, 404, 'NOT_FOUND'),
      gotOf(missing),
    );
    return out.list;
  },
};

interface Jwk {
  kid?: unknown;
  alg?: unknown;
  use?: unknown;
  x5c?: unknown;
}

export const wellKnownSection: Section = {
  name: 'well-known',
  about: 'the gateway description: present, in shape, its signing certificates published',
  async run(kit) {
    const out = new Results('well-known');
    const sent = 'GET /.well-known/mra-gateway';
    const r = await attempt(() => kit.wire.send({ method: 'GET', path: '/.well-known/mra-gateway' }));
    const present =
      r instanceof WireFailure
        ? gotOf(r)
        : r.status !== 200
          ? describe(r)
          : r.json === undefined
            ? `not JSON: ${r.jsonError}`
            : undefined;
    out.judge('present', sent, '200 with a JSON object', present, gotOf(r));
    if (present !== undefined || r instanceof WireFailure) {
      out.add('schema', 'SKIP', sent, 'the description', 'no description to check');
      out.add('keys', 'SKIP', sent, 'signing certificates', 'no description to check');
      return out.list;
    }
    const d = r.json as Record<string, unknown>;
    out.judge(
      'schema',
      sent,
      `adminId ${kit.target.adminId}, protocol mra-exchange/1, algorithms, endpoints records/feed/snapshot, keys`,
      shapeProblem(d, kit.target.adminId),
    );
    out.judge(
      'keys',
      sent,
      'every JWK with kid = SHA-256 of x5c[0], use sig, an allowed alg, x5c chaining to the anchors configured',
      keysProblem(d, kit),
      `${publishedKids(d).size} signing certificate(s), each chaining to the anchors`,
    );
    return out.list;
  },
};

function shapeProblem(d: Record<string, unknown>, adminId: string): string | undefined {
  if (d.adminId !== adminId) return `adminId ${String(d.adminId)}`;
  if (d.protocol !== 'mra-exchange/1') return `protocol ${String(d.protocol)}`;
  const algs = d.algorithms;
  if (
    !Array.isArray(algs) ||
    algs.length === 0 ||
    !algs.every((a) => (ALLOWED_ALGORITHMS as readonly unknown[]).includes(a))
  ) {
    return `algorithms ${JSON.stringify(algs)}`;
  }
  const e = d.endpoints as Record<string, unknown> | undefined;
  for (const name of ['records', 'feed', 'snapshot']) {
    const url = e?.[name];
    if (typeof url !== 'string' || !url.endsWith(`/mra/v1/${name}`))
      return `endpoints.${name} ${String(url)}`;
  }
  const keys = (d.keys as { keys?: unknown } | undefined)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) return 'keys.keys is not a non-empty array';
  return undefined;
}

/** The `kid`s of the description's keys (empty when it has none). */
export function publishedKids(d: unknown): Set<string> {
  const keys = ((d as { keys?: { keys?: unknown } } | undefined)?.keys?.keys ?? []) as unknown[];
  return new Set(Array.isArray(keys) ? keys.map((k) => String((k as Jwk).kid)) : []);
}

function keysProblem(d: Record<string, unknown>, kit: Kit): string | undefined {
  const keys = (d.keys as { keys?: unknown } | undefined)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) return 'no keys';
  for (const [i, k] of (keys as Jwk[]).entries()) {
    if (!Array.isArray(k.x5c) || k.x5c.length === 0 || !k.x5c.every((c) => typeof c === 'string')) {
      return `keys[${i}] has no x5c`;
    }
    const chain = (k.x5c as string[]).map((c) => new Uint8Array(Buffer.from(c, 'base64')));
    const kid = createHash('sha256').update(chain[0]!).digest('base64url');
    if (k.kid !== kid) return `keys[${i}].kid ${String(k.kid)} is not the SHA-256 thumbprint of x5c[0]`;
    if (k.use !== 'sig') return `keys[${i}].use ${String(k.use)}`;
    if (!(ALLOWED_ALGORITHMS as readonly unknown[]).includes(k.alg)) return `keys[${i}].alg ${String(k.alg)}`;
    const checked = validateChain(chain, kit.target.trust, new Date());
    if (!checked.ok) return `keys[${i}]: ${checked.code}: ${checked.detail}`;
  }
  return undefined;
}
