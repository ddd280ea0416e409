/**
 * Border lookups (border scope), answered from the read model without a database round trip:
 *   GET  /api/v1/operators/:issuer/:aeoId?asOf=
 *   GET  /api/v1/operators?scheme=&value=&country=&asOf=
 *   POST /api/v1/operators/lookup { asOf?, items: [{ issuer, aeoId } | { scheme, value, country? }] }
 * Identifiers follow the record schema exactly (uppercase, no look-alikes), so a lowercase id is a 400, not an
 * "unknown" that a border system could mistake for a real answer.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Answerer, OperatorQuery } from '../../../lookup/answer.ts';
import {
  ADMIN_ID_PATTERN,
  AEO_ID_PATTERN,
  IDENTIFIER_SCHEME_PATTERN,
  IDENTIFIER_VALUE_PATTERN,
} from '../../../protocol/names.ts';
import { instantOf } from '../../date-time.ts';
import { problems } from '../../openapi/problem-schema.ts';
import { lookupAnswerResponse, lookupBatchResponse } from '../../openapi/responses.ts';

export const MAX_BATCH = 3_000;

export const ADMIN_ID = { type: 'string', pattern: ADMIN_ID_PATTERN } as const;
export const AEO_ID = { type: 'string', pattern: AEO_ID_PATTERN } as const;
const SCHEME = { type: 'string', pattern: IDENTIFIER_SCHEME_PATTERN } as const;
const VALUE = { type: 'string', pattern: IDENTIFIER_VALUE_PATTERN } as const;
// Its day, range and years (1900 to 9999) are checked by instantOf, with the one date rule of validation.ts.
export const AS_OF = {
  type: 'string',
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?(Z|[+-]\\d{2}:\\d{2})$',
} as const;

const byId = {
  type: 'object',
  additionalProperties: false,
  required: ['issuer', 'aeoId'],
  properties: { issuer: ADMIN_ID, aeoId: AEO_ID },
} as const;
const byIdentifier = {
  type: 'object',
  additionalProperties: false,
  required: ['scheme', 'value'],
  properties: { scheme: SCHEME, value: VALUE, country: ADMIN_ID },
} as const;

/** Answers are JSON bytes already (lookup/answer.ts): sent as they are, not serialised again. */
function sendJson(reply: FastifyReply, bytes: Buffer): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(bytes);
}

/** The time asked for; now when absent. */
function asOfOf(asOf: string | undefined, clock: () => Date): Date {
  return asOf === undefined ? clock() : instantOf(asOf, 'asOf');
}

export function registerOperatorRoutes(app: FastifyInstance, lookup: Answerer, clock: () => Date): void {
  app.get<{ Params: { issuer: string; aeoId: string }; Querystring: { asOf?: string } }>(
    '/operators/:issuer/:aeoId',
    {
      schema: {
        summary: 'Look an operator up by its issuer and AEO id',
        params: byId,
        querystring: { type: 'object', additionalProperties: false, properties: { asOf: AS_OF } },
        response: { 200: lookupAnswerResponse, ...problems(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const { issuer, aeoId } = request.params;
      return sendJson(reply, lookup.answerJson({ issuer, aeoId }, asOfOf(request.query.asOf, clock)));
    },
  );

  app.get<{ Querystring: { scheme: string; value: string; country?: string; asOf?: string } }>(
    '/operators',
    {
      schema: {
        querystring: {
          ...byIdentifier,
          properties: { ...byIdentifier.properties, asOf: AS_OF },
        },
        summary: 'Look an operator up by a national identifier (EORI, TIN, …)',
        response: { 200: lookupAnswerResponse, ...problems(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const { scheme, value, country, asOf } = request.query;
      return sendJson(reply, lookup.answerJson({ scheme, value, country }, asOfOf(asOf, clock)));
    },
  );

  app.post<{ Body: { asOf?: string; items: OperatorQuery[] } }>(
    '/operators/lookup',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['items'],
          properties: {
            asOf: AS_OF,
            items: {
              type: 'array',
              minItems: 1,
              maxItems: MAX_BATCH,
              // Told apart by aeoId, so each item is checked against one form only, not tried against both.
              // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else
              items: { if: { type: 'object', required: ['aeoId'] }, then: byId, else: byIdentifier },
            },
          },
        },
        summary: 'Look up to 3,000 operators at one instant',
        response: { 200: lookupBatchResponse, ...problems(400, 401, 403, 413, 415) },
      },
    },
    async (request, reply) => {
      // One instant for the whole manifest, so its answers agree with each other.
      return sendJson(reply, lookup.batchJson(request.body.items, asOfOf(request.body.asOf, clock)));
    },
  );
}
