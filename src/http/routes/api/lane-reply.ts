/**
 * The border-lookup lane's admission and answers (operators-lane.ts): admit a caller as the routes would (a
 * border token through the token cache, an address read as fastify reads it, the shared rate limit's count),
 * and write an answer with the headers the routes give it, head and body in one write with their
 * Content-Length.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ApiClient } from '../../../config/types.ts';
import { findApiClient } from '../../api-auth.ts';
import { JSON_ANSWER_TYPE, type LaneSlot, rateKeyOf, requestIdOf } from '../../base-app.ts';
import { problemOfError } from '../../problem.ts';
import type { WindowUse } from '../../rate-window.ts';

/**
 * What an X-Forwarded-For header may hold for the lane to read it; anything else is left to fastify. Spaces are
 * the only whitespace: how fastify's reader (proxy-addr, not importable here) treats any other is its own rule,
 * and the lane and fastify must find the same address.
 */
const FORWARDED_FOR = /^[0-9A-Fa-f.:, ]*$/;

const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';

/** The headers of every answer of the lane, as the routes give them (request id, the rate limit's three). */
export type LaneHeaders = Record<string, string | number>;

/**
 * Rate keys by the address they are read from: a border system asks from a few addresses, thousands of times a
 * second. Bounded: past RATE_KEYS_HELD addresses it starts again.
 */
export const RATE_KEYS_HELD = 1_024;
const rateKeys = new Map<string, string>();
function rateKeyAt(address: string): string {
  let key = rateKeys.get(address);
  if (key === undefined) {
    if (rateKeys.size >= RATE_KEYS_HELD) rateKeys.clear();
    key = rateKeyOf(address);
    rateKeys.set(address, key);
  }
  return key;
}

/**
 * The rate key of a caller the routes would let through to a border lookup, counted in the shared window;
 * undefined when the routes must judge it (no border token, an address the lane does not read, over the limit).
 */
export function admit(
  request: IncomingMessage,
  clients: readonly ApiClient[],
  slot: LaneSlot,
): { key: string; use: WindowUse } | undefined {
  const client = findApiClient(clients, request.headers.authorization);
  if (client === undefined || !client.scopes.has('border')) return undefined;
  const address = callerAddress(request, slot.trustProxy);
  if (address === undefined) return undefined;
  const key = rateKeyAt(address);
  const use = slot.rate.count(key);
  // Past the limit: fastify's limiter counts it again (the caller is over either way) and answers 429.
  if (use.current > slot.ratePerMinute) return undefined;
  return { key, use };
}

/** The headers the routes put on every border answer: the request id and the rate limit's. */
export function laneHeaders(request: IncomingMessage, slot: LaneSlot, use: WindowUse): LaneHeaders {
  // Every member the answer will have, in one shape (the content members are set by the sender).
  return {
    'x-request-id': requestIdOf(request),
    'x-ratelimit-limit': slot.ratePerMinute,
    'x-ratelimit-remaining': slot.ratePerMinute - use.current,
    'x-ratelimit-reset': Math.ceil(use.ttl / 1000),
    'content-type': JSON_ANSWER_TYPE,
    'content-length': 0,
  };
}

/**
 * A JSON answer: its head and body go out in one write, with their length (no chunked encoding). The body is
 * handed over as latin1 text, one character per byte, which node writes back byte for byte: a text body is
 * joined to the head and written once, where a Buffer would take a second, gathered write.
 */
export function sendJson(response: ServerResponse, common: LaneHeaders, body: Buffer): void {
  common['content-length'] = body.length;
  response.writeHead(200, common);
  response.end(body.toString('latin1'), 'latin1');
}

/** A lookup that failed once admitted (the read model still loading, or a fault): its problem document. */
export function sendFailure(
  response: ServerResponse,
  common: LaneHeaders,
  error: unknown,
  log: Logger,
): void {
  const { problem, retryAfter } = problemOfError(error);
  if (problem.status >= 500) log.error({ err: error }, 'border lookup failed');
  const body = Buffer.from(JSON.stringify(problem));
  if (retryAfter !== undefined) common['retry-after'] = String(retryAfter);
  common['content-type'] = PROBLEM_TYPE;
  common['content-length'] = body.length;
  response.writeHead(problem.status, common);
  response.end(body);
}

/** Counts the lookups a lane answers and logs how many each interval: no line per request. */
export function summaryLine(log: Logger, everyMs: number): (now: number) => void {
  let answeredSince = 0;
  let summaryAt = Date.now();
  return (now) => {
    answeredSince += 1;
    if (now - summaryAt < everyMs) return;
    log.info(
      { lookups: answeredSince, seconds: Math.round((now - summaryAt) / 1000) },
      'border lookups answered',
    );
    answeredSince = 0;
    summaryAt = now;
  };
}

/**
 * The caller's address as fastify's `request.ip` reads it: the socket's peer, or behind a trusted proxy the
 * first address of X-Forwarded-For. Undefined when the header holds anything else: fastify reads it then.
 */
export function callerAddress(request: IncomingMessage, trustProxy: boolean): string | undefined {
  const peer = request.socket.remoteAddress;
  if (!trustProxy) return peer;
  const forwarded = request.headers['x-forwarded-for'];
  if (forwarded === undefined) return peer;
  if (typeof forwarded !== 'string' || !FORWARDED_FOR.test(forwarded)) return undefined;
  for (const part of forwarded.split(',')) {
    const address = part.trim();
    if (address.length > 0) return address;
  }
  return peer;
}
