/**
 * The first thing the partner listener does with a request under mutual TLS: name the partner its client
 * certificate identifies, or refuse it with 401 PARTNER_UNKNOWN before any other hook, parser or route looks
 * at it. Only the health probes answer without a partner's certificate. Refusals are counted per address in
 * a small fixed window (the route-level rate limiter never runs after a refusal), and their warnings are capped
 * like those of failed handshakes.
 */
import type { TLSSocket } from 'node:tls';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Partner } from '../mra/types.ts';
import { problemOf, sendProblem } from './problem.ts';
import { isHealthRoute } from './routes/health.ts';
import { boundedWarnings, claimedPartner } from './server.ts';

/** What a gate does with a request: nothing (undefined) or the reply it refused it with. */
export type RequestGate = (request: FastifyRequest, reply: FastifyReply) => FastifyReply | undefined;

/** Refusal warnings logged a minute, past which they are only counted (server.ts boundedWarnings). */
const REFUSAL_WARNINGS_PER_MINUTE = 60;
/** Addresses counted in one window; past this, further new addresses share one count. */
const MAX_ADDRESSES = 10_000;
const WINDOW_MS = 60_000;

/** A fixed-window count of refusals per address, in bounded memory. */
export function refusalCounter(perMinute: number): (address: string) => boolean {
  let windowStart = 0;
  let counts = new Map<string, number>();
  return (address) => {
    const now = Date.now();
    if (now - windowStart >= WINDOW_MS) {
      windowStart = now;
      counts = new Map();
    }
    const key = counts.has(address) || counts.size < MAX_ADDRESSES ? address : '(other addresses)';
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    return n <= perMinute;
  };
}

export interface PartnerGateOptions {
  partners: readonly Partner[];
  identify: (request: FastifyRequest) => string | undefined;
  /** Refusals an address may draw a minute before it is answered 429 (the partners' own rate limit). */
  perMinute: number;
  log: Logger;
  refused: () => void;
}

export function partnerGate(options: PartnerGateOptions): RequestGate {
  const warn = boundedWarnings(options.log, REFUSAL_WARNINGS_PER_MINUTE);
  const withinLimit = refusalCounter(options.perMinute);
  return (request, reply) => {
    request.partner = options.identify(request);
    // OpenSSL only checked that the certificate chains to some anchor; one the gateway's own chain rules
    // accept for no partner is refused, never judged as if mTLS were off (sender by signatures alone).
    if (request.partner !== undefined || isHealthRoute(request)) return undefined;
    if (!withinLimit(request.ip)) {
      return sendProblem(
        reply,
        problemOf('RATE_LIMITED', `more than ${options.perMinute} refused requests in 1 minute`),
        60,
      );
    }
    const socket = request.raw.socket as TLSSocket;
    const authorizationError =
      socket.authorized === false && socket.authorizationError !== undefined
        ? String(socket.authorizationError)
        : undefined;
    warn(
      {
        address: request.ip,
        url: request.url.slice(0, 200),
        claimedPartner: claimedPartner(socket, options.partners),
        ...(authorizationError === undefined ? {} : { authorizationError }),
      },
      'partner refused: the client certificate identifies no partner',
    );
    options.refused();
    return sendProblem(
      reply,
      problemOf('PARTNER_UNKNOWN', 'the client certificate does not identify a partner'),
    );
  };
}
