/**
 * Bearer tokens of the home administration's own systems (national AEO system, border systems, operators of
 * the gateway). Only the SHA-256 of a token is configured; each route group names the scope it needs, and
 * no token opens a partner route nor a partner certificate an API route (docs/threats.md 52).
 */
import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BEARER_HEADER } from '../config/api-token.ts';
import type { ApiClient, ApiScope } from '../config/types.ts';
import { problemOf, sendProblem } from './problem.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The API client a bearer token identified. */
    apiClient: ApiClient | undefined;
  }
}

const digests = new WeakMap<ApiClient, Buffer>();
/** A client's configured digest as bytes, decoded once. */
function digestOf(client: ApiClient): Buffer {
  let digest = digests.get(client);
  if (digest === undefined) {
    digest = Buffer.from(client.tokenSha256, 'hex');
    digests.set(client, digest);
  }
  return digest;
}

/** Tokens verified lately, per configuration: a border system sends the same token thousands of times a second. */
export const TOKEN_CACHE_ENTRIES = 1_024;
export const TOKEN_CACHE_MS = 60_000;

interface Verified {
  client: ApiClient;
  until: number;
}

/**
 * Verified tokens by the hex of their SHA-256, never the token itself; only a token that matched a configured
 * digest is kept, so unknown tokens cannot fill it. A configuration is a new array of clients, hence a new
 * cache: a token removed from the configuration is not answered from an older one.
 */
const verifiedTokens = new WeakMap<readonly ApiClient[], Map<string, Verified>>();

function cacheOf(clients: readonly ApiClient[]): Map<string, Verified> {
  let cache = verifiedTokens.get(clients);
  if (cache === undefined) {
    cache = new Map();
    verifiedTokens.set(clients, cache);
  }
  return cache;
}

export function findApiClient(
  clients: readonly ApiClient[],
  authorization: string | undefined,
  now: number = Date.now(),
): ApiClient | undefined {
  const match = BEARER_HEADER.exec(authorization ?? '');
  if (match === null) return undefined;
  const key = hash('sha256', match[1]!, 'hex');
  const cache = cacheOf(clients);
  const known = cache.get(key);
  if (known !== undefined) {
    if (known.until > now) return known.client;
    cache.delete(key);
  }
  const digest = Buffer.from(key, 'hex');
  // Compare against every client so the time taken says nothing about which digest came close.
  let found: ApiClient | undefined;
  for (const client of clients) {
    if (timingSafeEqual(digest, digestOf(client))) found = client;
  }
  if (found !== undefined) {
    // The oldest entry makes room: a Map iterates in insertion order.
    if (cache.size >= TOKEN_CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(key, { client: found, until: now + TOKEN_CACHE_MS });
  }
  return found;
}

/**
 * Adds the hook that lets only clients holding `scope` (any one of them, when several) into the routes of
 * `app` (an encapsulated context).
 */
export function requireScope(
  app: FastifyInstance,
  clients: readonly ApiClient[],
  scope: ApiScope | readonly ApiScope[],
): void {
  const scopes: readonly ApiScope[] = typeof scope === 'string' ? [scope] : scope;
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const client = findApiClient(clients, request.headers.authorization);
    if (client === undefined) {
      // A partner identified by its certificate or by its request token (docs/protocol.md) is known, and refused.
      if (request.partner !== undefined || /^MRA /.test(request.headers.authorization ?? '')) {
        return sendProblem(reply, problemOf('FORBIDDEN', 'partner gateways have no access to this route'));
      }
      void reply.header('www-authenticate', 'Bearer');
      return sendProblem(reply, problemOf('UNAUTHORIZED', 'a valid bearer token is required'));
    }
    if (!scopes.some((s) => client.scopes.has(s))) {
      const needed = scopes.join(' or ');
      return sendProblem(
        reply,
        problemOf('FORBIDDEN', `the token of ${client.id} lacks the ${needed} scope`),
      );
    }
    request.apiClient = client;
    return undefined;
  });
}

/** For partner routes: a request that carries an API bearer token is someone else's system. */
export function refuseApiTokens(app: FastifyInstance, clients: readonly ApiClient[]): void {
  app.addHook('onRequest', async (request, reply) => {
    if (findApiClient(clients, request.headers.authorization) !== undefined) {
      return sendProblem(reply, problemOf('FORBIDDEN', 'API tokens have no access to partner routes'));
    }
    return undefined;
  });
}
