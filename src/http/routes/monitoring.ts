/**
 * `POST /mra/v1/monitoring` and `GET /mra/v1/monitoring` (docs/protocol.md, "Monitoring summaries"). The POST
 * is authenticated like `POST /records`: mTLS names the partner, and every summary's signature is checked; the
 * GET, like `feed`, by a request token, in a context of its own so that the token hook guards it alone. A
 * partner whose MRA is suspended may push and pull: neither route looks at the MRA's status.
 */
import type { FastifyInstance } from 'fastify';
import { MAX_SUMMARY_PAGE } from '../../monitoring/summaries/feed.ts';
import { MAX_SUMMARY_BATCH } from '../../monitoring/summaries/receive.ts';
import type { SummaryService } from '../../monitoring/summaries/service.ts';
import { problems } from '../openapi/problem-schema.ts';
import {
  type PageQuery,
  pageQuery,
  pageQuerystring as querystring,
  type RequestTokenDeps,
  requireRequestToken,
  tokenCaller,
} from './request-token-pull.ts';

export interface MonitoringRouteDeps extends RequestTokenDeps {
  summaries: SummaryService;
}

const bodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['summaries'],
  properties: {
    summaries: { type: 'array', minItems: 1, maxItems: MAX_SUMMARY_BATCH, items: { type: 'string' } },
  },
} as const;

/** The most summaries a page holds, also the default (docs/protocol.md). */
const LIMITS = { defaultLimit: MAX_SUMMARY_PAGE, maxLimit: MAX_SUMMARY_PAGE };

const pageResponse = {
  type: 'object',
  required: ['summaries', 'next'],
  properties: { summaries: { type: 'array', items: { type: 'string' } }, next: { type: 'string' } },
} as const;

export async function registerMonitoringRoutes(
  app: FastifyInstance,
  deps: MonitoringRouteDeps,
): Promise<void> {
  app.post<{ Body: { summaries: string[] } }>(
    '/monitoring',
    {
      schema: {
        summary: 'Push signed monitoring summaries; answered by a signed receipt',
        body: bodySchema,
        response: {
          200: { type: 'object', required: ['receipt'], properties: { receipt: { type: 'string' } } },
          ...problems(400, 401, 403, 413, 415),
        },
      },
    },
    async (request) => {
      const { receiptJws } = await deps.summaries.receive({
        summaries: request.body.summaries,
        tlsPeer: request.partner,
      });
      return { receipt: receiptJws };
    },
  );

  await app.register(async (pull) => {
    requireRequestToken(pull, deps);

    pull.get<{ Querystring: PageQuery }>(
      '/monitoring',
      {
        attachValidation: true,
        schema: {
          summary: 'A page of the monitoring summaries issued about the caller’s operators',
          querystring,
          response: { 200: pageResponse, ...problems(400, 401, 403) },
        },
      },
      async (request) => {
        const { after, limit } = pageQuery(request, LIMITS);
        return deps.summaries.page(tokenCaller(request), after, limit);
      },
    );
  });
}
