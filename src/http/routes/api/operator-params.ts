/**
 * What the border-lookup routes take, once: the JSON Schemas fastify validates with (operators.ts) and the same
 * patterns as the lane reads them (operators-lane.ts), so both accept exactly the same requests. Identifiers
 * follow the record schema exactly (uppercase, no look-alikes), so a lowercase id is a 400, not an "unknown"
 * that a border system could mistake for a real answer.
 */
import { ANSWER_FORMS } from '../../../lookup/answer-types.ts';
import {
  ADMIN_ID_PATTERN,
  AEO_ID_PATTERN,
  IDENTIFIER_SCHEME_PATTERN,
  IDENTIFIER_VALUE_PATTERN,
} from '../../../protocol/names.ts';

export const MAX_BATCH = 3_000;

export const ADMIN_ID = { type: 'string', pattern: ADMIN_ID_PATTERN } as const;
export const AEO_ID = { type: 'string', pattern: AEO_ID_PATTERN } as const;
export const SCHEME = { type: 'string', pattern: IDENTIFIER_SCHEME_PATTERN } as const;
export const VALUE = { type: 'string', pattern: IDENTIFIER_VALUE_PATTERN } as const;
// Its day, range and years (1900 to 9999) are checked by instantOf, with the one date rule of validation.ts.
export const AS_OF = {
  type: 'string',
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?(Z|[+-]\\d{2}:\\d{2})$',
} as const;

export const byId = {
  type: 'object',
  additionalProperties: false,
  required: ['issuer', 'aeoId'],
  properties: { issuer: ADMIN_ID, aeoId: AEO_ID },
} as const;
export const byIdentifier = {
  type: 'object',
  additionalProperties: false,
  required: ['scheme', 'value'],
  properties: { scheme: SCHEME, value: VALUE, country: ADMIN_ID },
} as const;

/** A manifest: up to MAX_BATCH items, each by issuer and aeoId or by a national identifier, at one instant. */
export const manifestBody = {
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
} as const;

/** `?form=compact` asks for a manifest's compact answer; full is the default (docs/lookup.md). */
export const manifestQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { form: { enum: ANSWER_FORMS } },
} as const;

/** A schema's pattern as ajv tests it (unicode mode). */
export const patternTest = (schema: { pattern: string }): ((text: string) => boolean) => {
  const pattern = new RegExp(schema.pattern, 'u');
  return (text) => pattern.test(text);
};
