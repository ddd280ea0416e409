/**
 * Delivery status and dead-letter replay, for the national AEO system and the gateway's operators:
 *   GET  /api/v1/records/:recordId/deliveries   where one record stands with each partner
 *   GET  /api/v1/deliveries?state=&partner=&after=&limit=
 *   POST /api/v1/deliveries/replay { partner?, ids? }   (admin scope; registered apart)
 */
import type { FastifyInstance } from 'fastify';
import { DELIVERY_STATES, type DeliveryState, type DeliveryStatus } from '../../../delivery/status.ts';
import { GatewayError } from '../../../errors.ts';
import { ADMIN_ID_PATTERN } from '../../../protocol/names.ts';
import { problems } from '../../openapi/problem-schema.ts';

const UUID = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const MAX_LIMIT = 1_000;

const nullableString = { type: ['string', 'null'] } as const;
const delivery = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'partner', 'recordId', 'aeoId', 'version', 'state', 'attempts'],
  properties: {
    id: { type: 'integer' },
    partner: { type: 'string' },
    recordId: { type: 'string' },
    aeoId: { type: 'string' },
    version: { type: 'integer' },
    state: { enum: DELIVERY_STATES },
    attempts: { type: 'integer' },
    lastError: nullableString,
    outcome: nullableString,
    receiptId: nullableString,
    deliveredAt: nullableString,
    enqueuedAt: nullableString,
    createdAt: { type: 'string' },
  },
} as const;

/** The read routes: publish or admin scope. */
export function registerDeliveryStatusRoutes(app: FastifyInstance, status: DeliveryStatus): void {
  app.get<{ Params: { recordId: string } }>(
    '/records/:recordId/deliveries',
    {
      schema: {
        params: {
          type: 'object',
          required: ['recordId'],
          properties: { recordId: { type: 'string', pattern: UUID } },
        },
        response: {
          200: {
            type: 'object',
            required: ['recordId', 'deliveries'],
            properties: { recordId: { type: 'string' }, deliveries: { type: 'array', items: delivery } },
          },
          ...problems(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const deliveries = await status.forRecord(request.params.recordId);
      if (deliveries === undefined)
        throw new GatewayError('NOT_FOUND', 'no record with this recordId was published');
      return { recordId: request.params.recordId, deliveries };
    },
  );

  app.get<{ Querystring: { state?: DeliveryState; partner?: string; after?: string; limit?: string } }>(
    '/deliveries',
    {
      schema: {
        // Numbers stay strings here: the API's validator does not coerce types.
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: { enum: DELIVERY_STATES },
            partner: { type: 'string', pattern: ADMIN_ID_PATTERN },
            after: { type: 'string', pattern: '^[0-9]{1,15}$' },
            limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['deliveries', 'next'],
            properties: {
              deliveries: { type: 'array', items: delivery },
              next: { type: ['integer', 'null'] },
            },
          },
          ...problems(400, 401, 403),
        },
      },
    },
    async (request) => {
      const { state, partner, after, limit } = request.query;
      const size = limit === undefined ? 100 : Number(limit);
      if (size < 1 || size > MAX_LIMIT)
        throw new GatewayError('BAD_REQUEST', `limit must be 1 to ${MAX_LIMIT}`);
      return status.list({
        state,
        partner,
        after: after === undefined ? undefined : Number(after),
        limit: size,
      });
    },
  );
}

/** Dead letters back to pending, once: admin scope. */
export function registerReplayRoute(app: FastifyInstance, status: DeliveryStatus): void {
  app.post<{ Body: { partner?: string; ids?: number[] } }>(
    '/deliveries/replay',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          // An empty body would replay every dead letter of every partner: the caller has to say which.
          minProperties: 1,
          properties: {
            partner: { type: 'string', pattern: ADMIN_ID_PATTERN },
            ids: {
              type: 'array',
              minItems: 1,
              maxItems: MAX_LIMIT,
              items: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
            },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['replayed'],
            properties: { replayed: { type: 'array', items: { type: 'integer' } } },
          },
          ...problems(400, 401, 403, 413, 415),
        },
      },
    },
    async (request) =>
      status.replay({ partner: request.body.partner, ids: request.body.ids, actor: request.apiClient?.id }),
  );
}
