/**
 * The one error type of the gateway. Every failure that leaves a module carries a stable code; the HTTP layer
 * turns it into an RFC 9457 problem document using the status map below.
 */

/** Per-record rejection codes of the exchange protocol (docs/protocol.md, "Receiving rules"). */
export const RECORD_REJECTION_CODES = [
  'SCHEMA_INVALID',
  'JWS_MALFORMED',
  'HEADER_INVALID',
  'ALG_NOT_ALLOWED',
  'SIGNATURE_INVALID',
  'CERT_UNTRUSTED',
  'CERT_EXPIRED',
  'ISSUER_MISMATCH',
  'NO_MRA_IN_FORCE',
  'OUT_OF_SCOPE',
  'ISSUED_IN_FUTURE',
  'RECORD_ID_CONFLICT',
  'VERSION_CONFLICT',
] as const;
export type RecordRejectionCode = (typeof RECORD_REJECTION_CODES)[number];

/**
 * Per-summary rejection codes of monitoring summaries beyond the record codes they share (docs/protocol.md,
 * "Monitoring summaries"): outcomes inside a receipt only, never the code of a failed request.
 */
export const SUMMARY_ONLY_REJECTION_CODES = ['SUBJECT_MISMATCH', 'MRA_UNKNOWN'] as const;
export type SummaryRejectionCode = RecordRejectionCode | (typeof SUMMARY_ONLY_REJECTION_CODES)[number];

/** Whole-request and operational codes. */
export const REQUEST_ERROR_CODES = [
  'BAD_REQUEST',
  'BODY_INVALID',
  'BODY_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'METHOD_NOT_ALLOWED',
  'REQUEST_TIMEOUT',
  'HEADERS_TOO_LARGE',
  'RATE_LIMITED',
  'PARTNER_UNKNOWN',
  'RECEIVER_REFUSED',
  'WEBHOOK_KEY_MISSING',
  'STORE_UNAVAILABLE',
  'STORE_BUSY',
  'STORE_LOCKED',
  'STORE_REFUSED',
  'LISTEN_FAILED',
  'SHUTTING_DOWN',
  'NOT_READY',
  'QUEUE_UNAVAILABLE',
  'QUEUE_EVICTION_POLICY',
  'CONFIG_INVALID',
  'INTERNAL',
] as const;
export type RequestErrorCode = (typeof REQUEST_ERROR_CODES)[number];

export type ErrorCode = RecordRejectionCode | RequestErrorCode;

const HTTP_STATUS: Record<ErrorCode, number> = {
  SCHEMA_INVALID: 400,
  JWS_MALFORMED: 400,
  HEADER_INVALID: 400,
  ALG_NOT_ALLOWED: 400,
  SIGNATURE_INVALID: 401,
  CERT_UNTRUSTED: 401,
  CERT_EXPIRED: 401,
  ISSUER_MISMATCH: 403,
  NO_MRA_IN_FORCE: 403,
  OUT_OF_SCOPE: 403,
  ISSUED_IN_FUTURE: 400,
  RECORD_ID_CONFLICT: 409,
  VERSION_CONFLICT: 409,
  BAD_REQUEST: 400,
  BODY_INVALID: 400,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  HEADERS_TOO_LARGE: 431,
  RATE_LIMITED: 429,
  PARTNER_UNKNOWN: 401,
  RECEIVER_REFUSED: 400,
  WEBHOOK_KEY_MISSING: 503,
  STORE_UNAVAILABLE: 503,
  STORE_BUSY: 503,
  STORE_LOCKED: 503,
  STORE_REFUSED: 503,
  LISTEN_FAILED: 500,
  SHUTTING_DOWN: 503,
  NOT_READY: 503,
  QUEUE_UNAVAILABLE: 503,
  QUEUE_EVICTION_POLICY: 500,
  CONFIG_INVALID: 500,
  INTERNAL: 500,
};

export interface GatewayErrorOptions {
  /** Seconds after which the client may retry (Retry-After), for 429 and 503. */
  retryAfterSeconds?: number;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get status(): number {
    return HTTP_STATUS[this.code];
  }
}

export function httpStatusOf(code: ErrorCode): number {
  return HTTP_STATUS[code];
}

export function isRecordRejectionCode(value: string): value is RecordRejectionCode {
  return (RECORD_REJECTION_CODES as readonly string[]).includes(value);
}

/**
 * The error of work a stop cut short (a transaction given a stop's signal, Store.transaction): one error, so a
 * run that was stopped is told apart from one that failed.
 */
export function stoppedRun(cause?: unknown): GatewayError {
  return new GatewayError('SHUTTING_DOWN', 'stopped: the gateway is stopping; the run is rolled back', {
    cause,
  });
}

/** True for the error of work a stop cut short. */
export function wasStopped(error: unknown): boolean {
  return error instanceof GatewayError && error.code === 'SHUTTING_DOWN';
}
