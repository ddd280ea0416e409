/**
 * `GET /mra/v1/feed` and `GET /mra/v1/snapshot`, behind request tokens (docs/protocol.md, Endpoints; docs/threats.md
 * 51). Registered in an encapsulated context of their own so that the token hook guards these two routes
 * only: `POST /records` is authenticated by its records' signatures.
 */
import type { FastifyInstance } from 'fastify';
import { DEFAULT_PAGE_LIMIT, feedPage, MAX_PAGE_LIMIT } from '../../partner-api/feed.ts';
import type { Snapshots } from '../../partner-api/snapshot.ts';
import { problems } from '../openapi/problem-schema.ts';
import {
  tokenCaller as caller,
  type PageQuery,
  pageQuerystring as querystring,
  type RequestTokenDeps,
  pageQuery as readPageQuery,
  requireRequestToken,
} from './request-token-pull.ts';

export interface FeedRouteDeps extends RequestTokenDeps {
  snapshots: Snapshots;
}

const LIMITS = { defaultLimit: DEFAULT_PAGE_LIMIT, maxLimit: MAX_PAGE_LIMIT };
const pageQuery = (request: Parameters<typeof readPageQuery>[0]) => readPageQuery(request, LIMITS);

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
    requireRequestToken(pull, deps);

    pull.get<{ Querystring: PageQuery }>(
      '/feed',
      {
        attachValidation: true,
        schema: {
          summary: 'A page of the records published to the caller',
          querystring,
          response: { 200: feedResponse, ...problems(400, 401, 403) },
        },
      },
      async (request) => {
        const { after, limit } = pageQuery(request);
        return feedPage(deps.store, caller(request), after, limit);
      },
    );

    pull.get<{ Querystring: PageQuery }>(
      '/snapshot',
      {
        attachValidation: true,
        schema: {
          summary: 'A page of the snapshot: the latest record of every operator published to the caller',
          querystring,
          response: { 200: snapshotResponse, ...problems(400, 401, 403) },
        },
      },
      async (request) => {
        const { after, limit } = pageQuery(request);
        return deps.snapshots.page(caller(request), after, limit);
      },
    );
  });
}
