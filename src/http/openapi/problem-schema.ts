/**
 * The RFC 9457 problem document every error leaves as (problem.ts), as the response schema of each route's
 * error statuses. Documentation only: problem.ts writes it, with the same members in the same order.
 */
import { RECORD_REJECTION_CODES, REQUEST_ERROR_CODES } from '../../errors.ts';
import { documented } from './compilers.ts';

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

export const problemSchema = documented({
  type: 'object',
  additionalProperties: false,
  required: ['type', 'title', 'status', 'code', 'detail'],
  properties: {
    type: { type: 'string', description: 'urn:mra-exchange:problem:<code in lowercase, dashes>' },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    code: { enum: [...RECORD_REJECTION_CODES, ...REQUEST_ERROR_CODES] },
    detail: { type: 'string' },
  },
});

/** Why a route answers each error status; the `code` member says which case it is. */
const WHY: Readonly<Record<number, string>> = {
  400: 'The request is malformed: BAD_REQUEST (URL, query string) or BODY_INVALID (body).',
  401: 'UNAUTHORIZED: no valid bearer token, request token or session; PARTNER_UNKNOWN: no partner client certificate.',
  403: 'FORBIDDEN: the token lacks the scope, or the caller is not allowed here.',
  404: 'NOT_FOUND: nothing with this identifier.',
  409: 'CONFLICT: the request conflicts with what is held.',
  413: 'BODY_TOO_LARGE: the body is over the limit.',
  415: 'UNSUPPORTED_MEDIA_TYPE: only the listed media types are accepted.',
  429: 'RATE_LIMITED: too many requests from this client in a minute.',
};

const DEFAULT_WHY =
  'Any other error, as a problem document: STORE_UNAVAILABLE, QUEUE_UNAVAILABLE, SHUTTING_DOWN or NOT_READY (503), INTERNAL (500).';

function problemResponse(description: string) {
  return { description, content: { [PROBLEM_MEDIA_TYPE]: { schema: problemSchema } } };
}

/**
 * The error responses of a route: each status listed, and `default` for the server's own failures. Spread into
 * a route's `schema.response`.
 */
export function problems(...statuses: number[]): Record<string, ReturnType<typeof problemResponse>> {
  return serverFailure(...statuses, 429);
}

/** The statuses listed and the server's own failures, without 429: for the health probes, never rate limited. */
export function serverFailure(...statuses: number[]): Record<string, ReturnType<typeof problemResponse>> {
  const out: Record<string, ReturnType<typeof problemResponse>> = {};
  for (const status of statuses) out[String(status)] = problemResponse(WHY[status] ?? 'An error.');
  return { ...out, default: problemResponse(DEFAULT_WHY) };
}

/** A body that is not JSON (a page, a file, lines), as text. */
export function text(description: string) {
  return documented({ type: 'string', description });
}

/** A 2xx answer that is not JSON, documented under its media type. */
export function mediaResponse(description: string, mediaType: string) {
  return { description, content: { [mediaType]: { schema: text(description) } } };
}
