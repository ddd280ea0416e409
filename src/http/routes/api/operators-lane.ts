/**
 * The border-lookup lane: the two GET lookups answered on the API listener's socket, before fastify, because a
 * border system asks them by the thousand a second and fastify's per-request work (request and reply objects,
 * a child logger, the generic hooks) would cost more than the answer. The manifest (POST) stays with fastify:
 * a profile put 83 % of its time in building the answer and none worth moving in the framework. The lane
 * answers only a request it can answer exactly as the routes of operators.ts would: a valid border token, a
 * well-formed path and query, a caller within its rate limit. Anything else (no token, another scope, a bad
 * query, the limit passed, HEAD, another method) is left untouched to fastify, so every refusal keeps its
 * status, problem document and headers. Every check of the routes runs here too: the token (api-auth.ts, with
 * its cache), the scope, the strict query reader (strict-input.ts), the same patterns (operator-params.ts),
 * asOf's date rule and the rate limit's count (rate-window.ts, shared with fastify's). Requests are not logged
 * one by one: a summary line says how many lookups were answered each minute, and failures are logged as they
 * happen.
 */
import type { Logger } from 'pino';
import type { ApiClient } from '../../../config/types.ts';
import type { Answerer, OperatorQuery } from '../../../lookup/answer.ts';
import type { Lane, LaneSlot } from '../../base-app.ts';
import { instantOf } from '../../date-time.ts';
import { parseQueryString } from '../../strict-input.ts';
import { admit, laneHeaders, sendFailure, sendJson, summaryLine } from './lane-reply.ts';
import { ADMIN_ID, AEO_ID, AS_OF, patternTest, SCHEME, VALUE } from './operator-params.ts';

export { callerAddress } from './lane-reply.ts';

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

type Query = Record<string, string>;
/** The query of a URL without one. */
const NO_QUERY: Query = Object.freeze(Object.create(null) as Query);

export function lookupLane(deps: LookupLaneDeps): Lane {
  const { lookup, clock, clients, slot, log } = deps;
  const collection = `${deps.prefix}/operators`;
  const single = `${collection}/`;
  const summarise = summaryLine(log, deps.summaryIntervalMs ?? SUMMARY_INTERVAL_MS);

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
    let parsed = NO_QUERY;
    if (mark !== -1) {
      parsed = parseQueryString(url.slice(mark + 1));
      // The strict reader marks a repeated name or a broken escape with a symbol: fastify refuses those.
      if (Object.getOwnPropertySymbols(parsed).length > 0) return false;
    }
    const query = queryOf(mark === -1 ? url : url.slice(0, mark), parsed);
    if (query === undefined) return false;
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
    const admitted = admit(request, clients, slot);
    if (admitted === undefined) return false;
    const common = laneHeaders(request, slot, admitted.use);
    let body: Buffer;
    try {
      body = lookup.answerJson(query, at);
    } catch (error) {
      sendFailure(response, common, error, log);
      deps.answered((performance.now() - started) / 1000);
      return true;
    }
    sendJson(response, common, body);
    deps.answered((performance.now() - started) / 1000);
    summarise(Date.now());
    return true;
  };
}
