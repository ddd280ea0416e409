/**
 * How every listener reads what a client sends besides headers: JSON bodies through the one strict reader of
 * signed payloads, query strings without repeats or broken escapes. Installed once, by base-app.ts, so that
 * no route can read its input another way (docs/threats.md 78, 79).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseJsonDocument } from '../crypto/strict-json.ts';
import { GatewayError } from '../errors.ts';

/** Set on a parsed query that must be refused: the route's hooks and handler never see it. */
const QUERY_FAULT = Symbol('query fault');

type ParsedQuery = Record<string, string> & { [QUERY_FAULT]?: string };

/**
 * The query string as a plain map of names to one value each. Node's reader would turn `?limit=1&limit=2`
 * into an array that each route would then have to think of, and keep `%zz` as it is: both are refused here,
 * as a whole, by the hook below. The map has no prototype, so no name can reach one.
 */
export function parseQueryString(text: string): ParsedQuery {
  const query = Object.create(null) as ParsedQuery;
  if (text.length === 0) return query;
  for (const part of text.split('&')) {
    if (part.length === 0) continue;
    const eq = part.indexOf('=');
    const name = decodeQueryComponent(eq === -1 ? part : part.slice(0, eq));
    const value = decodeQueryComponent(eq === -1 ? '' : part.slice(eq + 1));
    if (name === undefined || value === undefined) {
      query[QUERY_FAULT] = 'the query string is not validly percent-encoded UTF-8';
      return query;
    }
    if (Object.hasOwn(query, name)) {
      query[QUERY_FAULT] = `the query parameter ${JSON.stringify(name.slice(0, 40))} is repeated`;
      return query;
    }
    query[name] = value;
  }
  return query;
}

function decodeQueryComponent(text: string): string | undefined {
  try {
    // decodeURIComponent refuses broken escapes and invalid UTF-8, lone surrogates included.
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

/**
 * Registers the strict readers on an app: `application/json` bodies through parseJsonDocument (duplicate
 * members, `__proto__`, depth, lone surrogates, BOM, invalid UTF-8 → 400 BODY_INVALID), and a check before
 * validation that refuses a faulty query string, or any query on a route that declares none (400
 * BAD_REQUEST). Routes bound their parameters with a querystring schema of their own.
 */
export function installStrictInput(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    const parsed = parseJsonDocument(body as Buffer);
    if (parsed.ok) done(null, parsed.value);
    else done(new GatewayError('BODY_INVALID', `the body is not strict JSON: ${parsed.detail}`));
  });
  app.addHook('preValidation', async (request) => {
    refuseFaultyQuery(request);
  });
}

function refuseFaultyQuery(request: FastifyRequest): void {
  // No route: the answer is 404 whatever the query says.
  if (request.is404) return;
  const query = request.query as ParsedQuery;
  const fault = query[QUERY_FAULT];
  if (fault !== undefined) throw new GatewayError('BAD_REQUEST', fault);
  if (request.routeOptions.schema?.querystring === undefined) {
    const [name] = Object.keys(query);
    if (name !== undefined) {
      throw new GatewayError(
        'BAD_REQUEST',
        `${request.routeOptions.url ?? 'this route'} takes no query parameter (got ${JSON.stringify(name.slice(0, 40))})`,
      );
    }
  }
}
