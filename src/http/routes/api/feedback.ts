/**
 * Border systems' feedback (docs/lookup.md, "Feedback"):
 *   POST /api/v1/feedback { items: [{ issuer, aeoId, benefit, applied, consignmentRef, at, reason? }] }  border
 *   GET  /api/v1/feedback/summary?partner=&from=&to=                                              monitoring
 * Malformed input is a 400 for the whole report; an item naming a benefit the issuer's MRA does not grant is
 * rejected alone, with its reason, in the per-item results.
 */
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../../errors.ts';
import type { FeedbackService } from '../../../lookup/feedback.ts';
import { instantOf } from '../../date-time.ts';
import { problems } from '../../openapi/problem-schema.ts';
import { ADMIN_ID, AEO_ID, AS_OF } from './operators.ts';

export const MAX_FEEDBACK_ITEMS = 1_000;

const BENEFIT = { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' } as const;
const CONSIGNMENT_REF = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9./_-]{0,69}$' } as const;

interface ItemBody {
  issuer: string;
  aeoId: string;
  benefit: string;
  applied: boolean;
  consignmentRef: string;
  at: string;
  reason?: string;
}

const itemSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['issuer', 'aeoId', 'benefit', 'applied', 'consignmentRef', 'at'],
  properties: {
    issuer: ADMIN_ID,
    aeoId: AEO_ID,
    benefit: BENEFIT,
    applied: { type: 'boolean' },
    consignmentRef: CONSIGNMENT_REF,
    at: AS_OF,
    reason: { type: 'string', minLength: 1, maxLength: 500 },
  },
} as const;

const counts = {
  applied: { type: 'integer' },
  refused: { type: 'integer' },
} as const;
const sizeCounts = {
  type: 'object',
  required: ['enterpriseSize', 'sme', 'applied', 'refused'],
  properties: { enterpriseSize: { type: 'string' }, sme: { type: ['boolean', 'null'] }, ...counts },
} as const;

export function registerFeedbackRoute(app: FastifyInstance, feedback: FeedbackService): void {
  app.post<{ Body: { items: ItemBody[] } }>(
    '/feedback',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['items'],
          properties: {
            items: { type: 'array', minItems: 1, maxItems: MAX_FEEDBACK_ITEMS, items: itemSchema },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['results'],
            properties: {
              results: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['index', 'outcome'],
                  properties: {
                    index: { type: 'integer' },
                    outcome: { type: 'string' },
                    reason: { type: 'string' },
                  },
                },
              },
            },
          },
          ...problems(400, 401, 403, 413, 415),
        },
      },
    },
    async (request) => {
      // Every date is checked before anything is stored: a malformed report is refused whole.
      const items = request.body.items.map((i, n) => ({ ...i, at: instantOf(i.at, `items/${n}/at`) }));
      const clientId = request.apiClient?.id;
      if (clientId === undefined) throw new GatewayError('UNAUTHORIZED', 'no API client');
      return { results: await feedback.record(clientId, items) };
    },
  );
}

export function registerFeedbackSummaryRoute(app: FastifyInstance, feedback: FeedbackService): void {
  app.get<{ Querystring: { partner?: string; from?: string; to?: string } }>(
    '/feedback/summary',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { partner: ADMIN_ID, from: AS_OF, to: AS_OF },
        },
        response: {
          200: {
            type: 'object',
            required: ['applied', 'refused', 'benefits', 'bySize'],
            properties: {
              partner: { type: 'string' },
              from: { type: 'string' },
              to: { type: 'string' },
              ...counts,
              benefits: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['benefit', 'applied', 'refused', 'bySize'],
                  properties: {
                    benefit: { type: 'string' },
                    ...counts,
                    bySize: { type: 'array', items: sizeCounts },
                  },
                },
              },
              bySize: { type: 'array', items: sizeCounts },
            },
          },
          ...problems(400, 401, 403),
        },
      },
    },
    async (request) => {
      const { partner, from, to } = request.query;
      const query = {
        partner,
        from: from === undefined ? undefined : instantOf(from, 'from'),
        to: to === undefined ? undefined : instantOf(to, 'to'),
      };
      return {
        partner,
        from: query.from?.toISOString(),
        to: query.to?.toISOString(),
        ...(await feedback.summary(query)),
      };
    },
  );
}
