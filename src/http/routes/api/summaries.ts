/**
 * Monitoring summaries for the home administration (monitoring scope): issue a partner's summary for a period
 * now, and list the summaries issued (with their push state) or received (with their outcome). Each handler
 * makes one call into the service.
 */
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../../errors.ts';
import { SUMMARY_DIRECTIONS, type SummaryDirection } from '../../../monitoring/summaries/held.ts';
import type { SummaryService } from '../../../monitoring/summaries/service.ts';
import { ADMIN_ID_PATTERN } from '../../../protocol/names.ts';
import { problems } from '../../openapi/problem-schema.ts';
import { summaryIssuedCreated, summaryIssuedSame, summaryListResponse } from '../../openapi/responses.ts';

const DEFAULT_LIST = 100;
const MAX_LIST = 1000;

const issueBody = {
  type: 'object',
  additionalProperties: false,
  required: ['partner', 'from', 'to'],
  properties: {
    partner: { type: 'string', pattern: ADMIN_ID_PATTERN },
    from: { type: 'string', format: 'date' },
    to: { type: 'string', format: 'date' },
  },
} as const;

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    partner: { type: 'string', pattern: ADMIN_ID_PATTERN },
    direction: { enum: SUMMARY_DIRECTIONS },
    limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
  },
} as const;

interface ListQuery {
  partner?: string;
  direction?: SummaryDirection;
  limit?: string;
}

export function registerSummaryRoutes(app: FastifyInstance, summaries: SummaryService): void {
  app.post<{ Body: { partner: string; from: string; to: string } }>(
    '/monitoring/summaries',
    {
      schema: {
        summary: 'Issue the partner’s monitoring summary for a period, and push it',
        body: issueBody,
        response: {
          201: summaryIssuedCreated,
          200: summaryIssuedSame,
          ...problems(400, 401, 403, 404, 413, 415),
        },
      },
    },
    async (request, reply) => {
      const { partner, from, to } = request.body;
      const issued = await summaries.issue({
        partner,
        from,
        to,
        ...(request.apiClient ? { actor: request.apiClient.id } : {}),
      });
      void reply.code(issued.created ? 201 : 200);
      return {
        created: issued.created,
        summary: issued.summary,
        jws: issued.jws,
        push: issued.push,
      };
    },
  );

  app.get<{ Querystring: ListQuery }>(
    '/monitoring/summaries',
    {
      attachValidation: true,
      schema: {
        querystring: listQuery,
        response: { 200: summaryListResponse, ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      if (request.validationError) {
        throw new GatewayError('BAD_REQUEST', `the ${request.validationError.message}`);
      }
      const limit = request.query.limit === undefined ? DEFAULT_LIST : Number(request.query.limit);
      if (limit < 1 || limit > MAX_LIST) {
        throw new GatewayError('BAD_REQUEST', `limit must be from 1 to ${MAX_LIST}`);
      }
      const direction = request.query.direction ?? 'issued';
      return {
        direction,
        summaries: await summaries.list({ partner: request.query.partner, direction, limit }),
      };
    },
  );
}
