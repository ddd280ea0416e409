/**
 * Webhook subscriptions of border systems (border scope), each visible only to the API client that made it:
 *   POST   /api/v1/subscriptions { url, issuers?, events? }   → 201 { id, secret, ... }; the secret only here
 *   GET    /api/v1/subscriptions
 *   DELETE /api/v1/subscriptions/:id
 *   GET    /api/v1/subscriptions/:id/deliveries?state=&limit=
 *   POST   /api/v1/subscriptions/:id/deliveries/replay { ids? }   → 200 { replayed }; dead letters sent again
 *   POST   /api/v1/subscriptions/:id/secret/rotate   → 200 { id, secret, previousSecretUntil }; the secret only here
 *   DELETE /api/v1/subscriptions/:id/secret/previous → 204; the previous secret stops signing at once
 */
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../../errors.ts';
import { EVENT_TYPES, type EventType } from '../../../notifications/events.ts';
import {
  NOTIFICATION_STATES,
  type NotificationState,
  type Subscriptions,
} from '../../../notifications/subscriptions.ts';
import { problems } from '../../openapi/problem-schema.ts';
import { removed } from '../../openapi/responses.ts';

const UUID = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const nullableString = { type: ['string', 'null'] } as const;
const nullableInteger = { type: ['integer', 'null'] } as const;

const subscriptionProps = {
  id: { type: 'string' },
  url: { type: 'string' },
  issuers: { type: 'array', items: { type: 'string' } },
  events: { type: 'array', items: { type: 'string' } },
  createdAt: { type: 'string' },
} as const;
const subscription = {
  type: 'object',
  required: ['id', 'url', 'issuers', 'events', 'createdAt'],
  properties: subscriptionProps,
} as const;
const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: UUID } },
} as const;

function clientOf(request: { apiClient: { id: string } | undefined }): string {
  if (request.apiClient === undefined)
    throw new GatewayError('UNAUTHORIZED', 'a valid bearer token is required');
  return request.apiClient.id;
}

export function registerSubscriptionRoutes(app: FastifyInstance, subscriptions: Subscriptions): void {
  app.post<{ Body: { url: string; issuers?: string[]; events?: EventType[] } }>(
    '/subscriptions',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['url'],
          properties: {
            url: { type: 'string', minLength: 8, maxLength: 2_000 },
            issuers: {
              type: 'array',
              maxItems: 300,
              uniqueItems: true,
              items: { type: 'string', pattern: '^[A-Z]{2}$' },
            },
            events: { type: 'array', uniqueItems: true, items: { enum: EVENT_TYPES } },
          },
        },
        response: {
          201: {
            type: 'object',
            required: [...subscription.required, 'secret'],
            properties: { ...subscriptionProps, secret: { type: 'string' } },
          },
          ...problems(400, 401, 403, 413, 415),
        },
      },
    },
    async (request, reply) => {
      const created = await subscriptions.create(clientOf(request), request.body);
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/subscriptions',
    {
      schema: {
        response: {
          200: {
            type: 'object',
            required: ['subscriptions'],
            properties: { subscriptions: { type: 'array', items: subscription } },
          },
          ...problems(401, 403),
        },
      },
    },
    async (request) => ({ subscriptions: await subscriptions.list(clientOf(request)) }),
  );

  app.delete<{ Params: { id: string } }>(
    '/subscriptions/:id',
    { schema: { params: idParams, response: { 204: removed, ...problems(400, 401, 403, 404) } } },
    async (request, reply) => {
      if (!(await subscriptions.remove(clientOf(request), request.params.id))) {
        throw new GatewayError('NOT_FOUND', 'no subscription of yours has this id');
      }
      return reply.code(204).send();
    },
  );

  app.get<{ Params: { id: string }; Querystring: { state?: NotificationState; limit?: string } }>(
    '/subscriptions/:id/deliveries',
    {
      schema: {
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: { enum: NOTIFICATION_STATES },
            limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['deliveries'],
            properties: {
              deliveries: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['id', 'eventId', 'type', 'issuer', 'state', 'attempts', 'createdAt'],
                  properties: {
                    id: { type: 'integer' },
                    eventId: { type: 'string' },
                    type: { type: 'string' },
                    issuer: { type: 'string' },
                    aeoId: nullableString,
                    version: nullableInteger,
                    state: { enum: NOTIFICATION_STATES },
                    attempts: { type: 'integer' },
                    lastError: nullableString,
                    createdAt: { type: 'string' },
                    deliveredAt: nullableString,
                  },
                },
              },
            },
          },
          ...problems(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const limit = request.query.limit === undefined ? 100 : Number(request.query.limit);
      if (limit < 1 || limit > 1_000) throw new GatewayError('BAD_REQUEST', 'limit must be 1 to 1000');
      const deliveries = await subscriptions.deliveries(
        clientOf(request),
        request.params.id,
        request.query.state,
        limit,
      );
      if (deliveries === undefined)
        throw new GatewayError('NOT_FOUND', 'no subscription of yours has this id');
      return { deliveries };
    },
  );

  app.post<{ Params: { id: string }; Body: { ids?: number[] } }>(
    '/subscriptions/:id/deliveries/replay',
    {
      schema: {
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ids: { type: 'array', minItems: 1, maxItems: 1_000, items: { type: 'integer', minimum: 1 } },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['replayed'],
            properties: { replayed: { type: 'array', items: { type: 'integer' } } },
          },
          ...problems(400, 401, 403, 404, 413, 415),
        },
      },
    },
    async (request) => {
      const replayed = await subscriptions.replay(clientOf(request), request.params.id, request.body.ids);
      if (replayed === undefined) throw new GatewayError('NOT_FOUND', 'no subscription of yours has this id');
      return { replayed };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/subscriptions/:id/secret/rotate',
    {
      schema: {
        params: idParams,
        response: {
          200: {
            type: 'object',
            required: ['id', 'secret', 'previousSecretUntil'],
            properties: {
              id: { type: 'string' },
              secret: { type: 'string' },
              previousSecretUntil: nullableString,
            },
          },
          ...problems(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const rotated = await subscriptions.rotateSecret(clientOf(request), request.params.id);
      if (rotated === undefined) throw new GatewayError('NOT_FOUND', 'no subscription of yours has this id');
      return rotated;
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/subscriptions/:id/secret/previous',
    { schema: { params: idParams, response: { 204: removed, ...problems(400, 401, 403, 404) } } },
    async (request, reply) => {
      if (!(await subscriptions.dropPreviousSecret(clientOf(request), request.params.id))) {
        throw new GatewayError('NOT_FOUND', 'no subscription of yours has this id');
      }
      return reply.code(204).send();
    },
  );
}
