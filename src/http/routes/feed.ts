/**
 * `GET /mra/v1/feed` and `GET /mra/v1/snapshot`, behind request tokens (docs/protocol.md, Endpoints; docs/threats.md
 * 51). Registered in an encapsulated context of their own so that the token hook guards these two routes
 * only: `POST /records` is authenticated by its records' signatures.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GatewayConfig } from '../../config/types.ts';
import type { ChainCache } from '../../crypto/chain-cache.ts';
import { GatewayError } from '../../errors.ts';
import { DEFAULT_PAGE_LIMIT, feedPage, MAX_PAGE_LIMIT } from '../../partner-api/feed.ts';
import { verifyRequestToken } from '../../partner-api/request-token.ts';
import type { Snapshots } from '../../partner-api/snapshot.ts';
import type { Store } from '../../store/types.ts';
import { problemOf, sendProblem } from '../problem.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** adminId of the partner whose request token was accepted. */
    tokenPartner: string | undefined;
  }
}

export interface FeedRouteDeps {
  config: GatewayConfig;
  store: Store;
  snapshots: Snapshots;
  cache: ChainCache;
  clock: () => Date;
}

interface PageQuery {
  after?: string;
  limit?: string;
}

// The app's validator does not coerce, so numbers arrive as strings: their shape is checked here and their
// range in pageLimit. `attachValidation` lets a bad query string be a 400 BAD_REQUEST, not BODY_INVALID.
const querystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    after: { type: 'string', minLength: 1, maxLength: 256 },
    limit: { type: 'string', pattern: '^[0-9]{1,7}$' },
  },
} as const;

const feedResponse = {
  type: 'object',
  required: ['records', 'next'],
  properties: { records: { type: 'array', items: { type: 'string' } }, next: { type: 'string' } },
} as const;

const snapshotResponse = {
  type: 'object',
  required: ['asOf', 'count', 'digest', 'records', 'next'],
  properties: {
    asOf: { type: 'string' },
    count: { type: 'integer' },
    digest: { type: 'string' },
    records: { type: 'array', items: { type: 'string' } },
    next: { type: 'string' },
  },
} as const;

export async function registerFeedRoutes(app: FastifyInstance, deps: FeedRouteDeps): Promise<void> {
  await app.register(async (pull) => {
    pull.decorateRequest('tokenPartner', undefined);
    // onRequest, so an unauthenticated caller learns nothing from query validation.
    pull.addHook('onRequest', async (request, reply) => {
      const result = await verifyRequestToken(request.headers.authorization, {
        home: deps.config.home.adminId,
        partners: deps.config.partners,
        tlsPeer: request.partner,
        store: deps.store,
        now: deps.clock(),
        cache: deps.cache,
      });
      if (!result.ok) {
        request.log.info({ rule: result.detail }, 'request token refused');
        void reply.header('www-authenticate', 'MRA');
        return sendProblem(reply, problemOf('UNAUTHORIZED', result.detail));
      }
      request.tokenPartner = result.partner;
      return undefined;
    });

    pull.get<{ Querystring: PageQuery }>(
      '/feed',
      { attachValidation: true, schema: { querystring, response: { 200: feedResponse } } },
      async (request) => {
        const { after, limit } = pageQuery(request);
        return feedPage(deps.store, caller(request), after, limit);
      },
    );

    pull.get<{ Querystring: PageQuery }>(
      '/snapshot',
      { attachValidation: true, schema: { querystring, response: { 200: snapshotResponse } } },
      async (request) => {
        const { after, limit } = pageQuery(request);
        return deps.snapshots.page(caller(request), after, limit);
      },
    );
  });
}

function caller(request: FastifyRequest): string {
  // The hook refuses every request without an accepted token; this only guards against a wiring mistake.
  if (request.tokenPartner === undefined) throw new GatewayError('UNAUTHORIZED', 'no request token');
  return request.tokenPartner;
}

function pageQuery(request: FastifyRequest<{ Querystring: PageQuery }>): {
  after: string | undefined;
  limit: number;
} {
  if (request.validationError) {
    throw new GatewayError('BAD_REQUEST', `the ${request.validationError.message}`);
  }
  const { after, limit } = request.query;
  const n = limit === undefined ? DEFAULT_PAGE_LIMIT : Number(limit);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_LIMIT) {
    throw new GatewayError('BAD_REQUEST', `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
  }
  return { after, limit: n };
}
