/**
 * The JSON Schema of a lookup answer (answer.ts writes it; docs/lookup.md describes it). Tests hold every
 * answer the writer produces to it; it is also the reference for a border system's own validation.
 */
import { NOT_RECOGNISED_REASONS } from './answer-types.ts';

const str = { type: 'string' } as const;
const roles = { type: 'array', items: str } as const;
const reason = {
  enum: [...NOT_RECOGNISED_REASONS],
} as const;
export const answerSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['query', 'asOf', 'recognised', 'benefits', 'freshness'],
  // A reason exactly when not recognised.
  if: { properties: { recognised: { const: true } } },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else
  then: { properties: { reason: false } },
  else: { required: ['reason'] },
  properties: {
    query: {
      type: 'object',
      additionalProperties: false,
      properties: { issuer: str, aeoId: str, scheme: str, value: str, country: str },
    },
    asOf: str,
    recognised: { type: 'boolean' },
    reason,
    matches: {
      type: 'array',
      minItems: 2,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['issuer', 'aeoId', 'version', 'status', 'statusSince', 'recognised'],
        if: { properties: { recognised: { const: true } } },
        // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else
        then: { properties: { reason: false } },
        else: { required: ['reason'] },
        properties: {
          issuer: str,
          aeoId: str,
          version: { type: 'integer' },
          status: str,
          statusSince: str,
          recognised: { type: 'boolean' },
          reason,
        },
      },
    },
    operator: {
      type: 'object',
      additionalProperties: false,
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
      additionalProperties: false,
      required: ['id', 'partner', 'status', 'inForce'],
      properties: { id: str, partner: str, status: str, inForce: { type: 'boolean' } },
    },
    benefits: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'description', 'roles'],
        properties: { id: str, description: str, roles },
      },
    },
    evidence: {
      type: 'object',
      additionalProperties: false,
      required: ['recordId', 'digest', 'receivedAt'],
      properties: { recordId: str, digest: str, receivedAt: str },
    },
    freshness: {
      type: 'object',
      additionalProperties: false,
      required: ['partnerLastReceivedAt', 'readModelLastChangeAt'],
      properties: {
        partnerLastReceivedAt: { type: ['string', 'null'] },
        readModelLastChangeAt: { type: ['string', 'null'] },
      },
    },
  },
} as const;

/** A manifest's full answer (the default form): the instant, then one answer per item in order. */
export const batchSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['asOf', 'answers'],
  properties: { asOf: str, answers: { type: 'array', items: answerSchema } },
} as const;

const index = { type: 'integer', minimum: 0 } as const;
const { query, recognised, matches, operator, evidence } = answerSchema.properties;
/** An item of the compact form (answer-compact.ts): no instant, and the shared parts by their table's index. */
export const compactAnswerSchema = {
  ...answerSchema,
  required: ['query', 'recognised', 'benefits', 'freshness'],
  properties: {
    query,
    recognised,
    reason,
    matches,
    operator,
    mra: index,
    benefits: index,
    evidence,
    freshness: index,
  },
} as const;

/** A manifest's compact answer: the shared parts once, in tables, then the items that refer to them. */
export const compactBatchSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['asOf', 'form', 'benefits', 'mras', 'freshness', 'answers'],
  properties: {
    asOf: str,
    form: { const: 'compact' },
    benefits: { type: 'array', items: answerSchema.properties.benefits },
    mras: { type: 'array', items: answerSchema.properties.mra },
    freshness: { type: 'array', items: answerSchema.properties.freshness },
    answers: { type: 'array', items: compactAnswerSchema },
  },
} as const;
