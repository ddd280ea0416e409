/**
 * Border lookups (border scope), answered from the read model without a database round trip:
 *   GET  /api/v1/operators/:issuer/:aeoId?asOf=
 *   GET  /api/v1/operators?scheme=&value=&country=&asOf=
 *   POST /api/v1/operators/lookup { asOf?, items: [{ issuer, aeoId } | { scheme, value, country? }] }
 * Identifiers follow the record schema exactly (uppercase, no look-alikes), so a lowercase id is a 400, not an
 * "unknown" that a border system could mistake for a real answer.
 */
import type { FastifyInstance } from 'fastify';
import type { Answerer, LookupAnswer, OperatorQuery } from '../../../lookup/answer.ts';
import { instantOf } from '../../date-time.ts';

export const MAX_BATCH = 3_000;

export const ADMIN_ID = { type: 'string', pattern: '^[A-Z]{2}$' } as const;
export const AEO_ID = { type: 'string', pattern: '^[A-Z0-9][A-Z0-9./-]{2,34}$' } as const;
const SCHEME = { type: 'string', pattern: '^[A-Z][A-Z0-9_-]{1,15}$' } as const;
const VALUE = { type: 'string', pattern: '^[A-Z0-9][A-Z0-9./-]{0,63}$' } as const;
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

const str = { type: 'string' } as const;
const roles = { type: 'array', items: str } as const;
const answerSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['query', 'asOf', 'recognised', 'benefits', 'freshness'],
  properties: {
    query: {
      type: 'object',
      properties: { issuer: str, aeoId: str, scheme: str, value: str, country: str },
    },
    asOf: str,
    recognised: { type: 'boolean' },
    reason: { enum: ['unknown', 'suspended', 'revoked', 'withdrawn', 'mra-not-in-force', 'out-of-scope'] },
    operator: {
      type: 'object',
      required: ['issuer', 'aeoId', 'version', 'status', 'statusSince', 'programme', 'roles'],
      properties: {
        issuer: str,
        aeoId: str,
        version: { type: 'integer' },
        status: str,
        statusSince: str,
        programme: str,
        roles,
      },
    },
    mra: {
      type: 'object',
      required: ['id', 'partner', 'status', 'inForce'],
      properties: { id: str, partner: str, status: str, inForce: { type: 'boolean' } },
    },
    benefits: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'description', 'roles'],
        properties: { id: str, description: str, roles },
      },
    },
    evidence: {
      type: 'object',
      required: ['recordId', 'digest', 'receivedAt'],
      properties: { recordId: str, digest: str, receivedAt: str },
    },
    freshness: {
      type: 'object',
      required: ['partnerLastReceivedAt', 'readModelLastChangeAt'],
      properties: {
        partnerLastReceivedAt: { type: ['string', 'null'] },
        readModelLastChangeAt: { type: ['string', 'null'] },
      },
    },
  },
} as const;

/** The time asked for; now when absent. */
function asOfOf(asOf: string | undefined, clock: () => Date): Date {
  return asOf === undefined ? clock() : instantOf(asOf, 'asOf');
}

export function registerOperatorRoutes(app: FastifyInstance, lookup: Answerer, clock: () => Date): void {
  app.get<{ Params: { issuer: string; aeoId: string }; Querystring: { asOf?: string } }>(
    '/operators/:issuer/:aeoId',
    {
      schema: {
        params: byId,
        querystring: { type: 'object', additionalProperties: false, properties: { asOf: AS_OF } },
        response: { 200: answerSchema },
      },
    },
    async (request) => {
      const { issuer, aeoId } = request.params;
      return lookup.answer({ issuer, aeoId }, asOfOf(request.query.asOf, clock));
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
        response: { 200: answerSchema },
      },
    },
    async (request) => {
      const { scheme, value, country, asOf } = request.query;
      return lookup.answer({ scheme, value, country }, asOfOf(asOf, clock));
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
              items: { oneOf: [byId, byIdentifier] },
            },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['asOf', 'answers'],
            properties: { asOf: str, answers: { type: 'array', items: answerSchema } },
          },
        },
      },
    },
    async (request) => {
      const at = asOfOf(request.body.asOf, clock);
      // One instant for the whole manifest, so its answers agree with each other.
      const answers: LookupAnswer[] = request.body.items.map((q) => lookup.answer(q, at));
      return { asOf: at.toISOString(), answers };
    },
  );
}
