/**
 * The border-lookup lane: the two GET lookups answered on the API listener's socket, before fastify, because a
 * border system asks them by the thousand a second and fastify's per-request work (request and reply objects,
 * a child logger, the generic hooks) would cost more than the answer. The lane answers only a request it can
 * answer exactly as the routes of operators.ts would: a valid border token, a well-formed path and query, a
 * caller within its rate limit. Anything else (no token, another scope, a bad query, the limit passed, HEAD,
 * another method) is left untouched to fastify, so every refusal keeps its status, problem document and
 * headers. Every check of the routes runs here too: the token (api-auth.ts, with its cache), the scope, the
 * strict query reader (strict-input.ts), the same patterns (operator-params.ts), asOf's date rule and the
 * rate limit's count (rate-window.ts, shared with fastify's). Requests are not logged one by one: a summary
 * line says how many lookups were answered each minute, and failures are logged as they happen.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ApiClient } from '../../../config/types.ts';
import type { Answerer, OperatorQuery } from '../../../lookup/answer.ts';
import { findApiClient } from '../../api-auth.ts';
import { type Lane, type LaneSlot, rateKeyOf, requestIdOf } from '../../base-app.ts';
import { instantOf } from '../../date-time.ts';
import { problemOfError } from '../../problem.ts';
import { parseQueryString } from '../../strict-input.ts';
import { ADMIN_ID, AEO_ID, AS_OF, patternTest, SCHEME, VALUE } from './operator-params.ts';

export interface LookupLaneDeps {
  lookup: Answerer;
  clock: () => Date;
  clients: readonly ApiClient[];
  /** Where the routes are mounted (`/api/v1`). */
  prefix: string;
  slot: LaneSlot;
  /** The metrics' lookup latency, in seconds. */
  answered(seconds: number): void;
  log: Logger;
  /** How often the summary line is written (SUMMARY_INTERVAL_MS). */
  summaryIntervalMs?: number;
}

/** How often the summary line is written. */
export const SUMMARY_INTERVAL_MS = 60_000;

const isAdminId = patternTest(ADMIN_ID);
const isAeoId = patternTest(AEO_ID);
const isScheme = patternTest(SCHEME);
const isValue = patternTest(VALUE);
const isAsOf = patternTest(AS_OF);
/** A path segment that decodes to itself: anything escaped is left to fastify's router. */
const PLAIN_SEGMENT = /^[A-Za-z0-9._-]+$/;
/**
 * What an X-Forwarded-For header may hold for the lane to read it; anything else is left to fastify. Spaces are
 * the only whitespace: how fastify's reader (proxy-addr, not importable here) treats any other is its own rule,
 * and the lane and fastify must find the same address.
 */
const FORWARDED_FOR = /^[0-9A-Fa-f.:, ]*$/;

type Query = Record<string, string>;

export function lookupLane(deps: LookupLaneDeps): Lane {
  const { lookup, clock, clients, slot, log } = deps;
  const collection = `${deps.prefix}/operators`;
  const single = `${collection}/`;
  const summaryEvery = deps.summaryIntervalMs ?? SUMMARY_INTERVAL_MS;
  let answeredSince = 0;
  let summaryAt = Date.now();

  /** The query of a path and query string, or undefined when the routes must judge it. */
  function queryOf(path: string, query: Query): OperatorQuery | undefined {
    const names = Object.keys(query);
    if (path === collection) {
      const { scheme, value, country } = query;
      for (const name of names) {
        if (name !== 'scheme' && name !== 'value' && name !== 'country' && name !== 'asOf') return undefined;
      }
      if (scheme === undefined || value === undefined || !isScheme(scheme) || !isValue(value))
        return undefined;
      if (country !== undefined && !isAdminId(country)) return undefined;
      return { scheme, value, country };
    }
    if (!path.startsWith(single)) return undefined;
    const slash = path.indexOf('/', single.length);
    if (slash === -1 || path.indexOf('/', slash + 1) !== -1) return undefined;
    const issuer = path.slice(single.length, slash);
    const aeoId = path.slice(slash + 1);
    if (!PLAIN_SEGMENT.test(issuer) || !PLAIN_SEGMENT.test(aeoId)) return undefined;
    if (!isAdminId(issuer) || !isAeoId(aeoId)) return undefined;
    if (names.length > 1 || (names.length === 1 && names[0] !== 'asOf')) return undefined;
    return { issuer, aeoId };
  }

  function summarise(now: number): void {
    answeredSince += 1;
    if (now - summaryAt < summaryEvery) return;
    log.info(
      { lookups: answeredSince, seconds: Math.round((now - summaryAt) / 1000) },
      'border lookups answered',
    );
    answeredSince = 0;
    summaryAt = now;
  }

  return (request, response) => {
    if (request.method !== 'GET') return false;
    const url = request.url ?? '';
    if (!url.startsWith(collection)) return false;
    const started = performance.now();
    const { headers } = request;
    // A GET with a body, or a URL with a fragment, is unusual enough to be fastify's to judge.
    if (headers['content-length'] !== undefined || headers['transfer-encoding'] !== undefined) return false;
    if (url.includes('#')) return false;
    const mark = url.indexOf('?');
    const parsed = parseQueryString(mark === -1 ? '' : url.slice(mark + 1));
    // The strict reader marks a repeated name or a broken escape with a symbol: fastify refuses those.
    if (Object.getOwnPropertySymbols(parsed).length > 0) return false;
    const query = queryOf(mark === -1 ? url : url.slice(0, mark), parsed);
    if (query === undefined) return false;
    const client = findApiClient(clients, headers.authorization);
    if (client === undefined || !client.scopes.has('border')) return false;
    const asOf = parsed.asOf;
    let at: Date;
    if (asOf === undefined) at = clock();
    else {
      if (!isAsOf(asOf)) return false;
      try {
        at = instantOf(asOf, 'asOf');
      } catch {
        return false;
      }
    }
    const address = callerAddress(request, slot.trustProxy);
    if (address === undefined) return false;
    const use = slot.rate.count(rateKeyOf(address));
    // Past the limit: fastify's limiter counts it again (the caller is over either way) and answers 429.
    if (use.current > slot.ratePerMinute) return false;
    const common = {
      'x-request-id': requestIdOf(request),
      'x-ratelimit-limit': slot.ratePerMinute,
      'x-ratelimit-remaining': slot.ratePerMinute - use.current,
      'x-ratelimit-reset': Math.ceil(use.ttl / 1000),
    };
    let body: Buffer;
    try {
      body = lookup.answerJson(query, at);
    } catch (error) {
      sendFailure(response, common, error, log);
      deps.answered((performance.now() - started) / 1000);
      return true;
    }
    response.writeHead(200, {
      ...common,
      'content-type': 'application/json; charset=utf-8',
      'content-length': body.length,
    });
    response.end(body);
    deps.answered((performance.now() - started) / 1000);
    summarise(Date.now());
    return true;
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

/** A lookup that failed once admitted (the read model still loading, or a fault): its problem document. */
function sendFailure(
  response: ServerResponse,
  common: Record<string, string | number>,
  error: unknown,
  log: Logger,
): void {
  const { problem, retryAfter } = problemOfError(error);
  if (problem.status >= 500) log.error({ err: error }, 'border lookup failed');
  const body = JSON.stringify(problem);
  response.writeHead(problem.status, {
    ...common,
    ...(retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) }),
    'content-type': 'application/problem+json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}
