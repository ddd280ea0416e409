/** Every HTTP error leaves as an RFC 9457 problem document with a stable `code`. */
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, GatewayError, httpStatusOf } from '../errors.ts';
import { isDataException } from '../store/data-error.ts';
import { describeErrors } from '../validation.ts';

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
}

/** The detail of every UNSUPPORTED_MEDIA_TYPE: a body of another media type than JSON (http/base-app.ts). */
export const ONLY_JSON_ACCEPTED = 'only application/json is accepted';

const TITLES: Partial<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problemOf(code: ErrorCode, detail: string): Problem {
  const status = httpStatusOf(code);
  return {
    type: `urn:mra-exchange:problem:${code.toLowerCase().replaceAll('_', '-')}`,
    title: TITLES[status] ?? 'Error',
    status,
    code,
    detail,
  };
}

export function sendProblem(reply: FastifyReply, problem: Problem, retryAfterSeconds?: number): FastifyReply {
  if (retryAfterSeconds !== undefined) void reply.header('retry-after', String(retryAfterSeconds));
  return reply.code(problem.status).type('application/problem+json').send(problem);
}

/**
 * The problem document of an error thrown while answering, and its Retry-After: the one mapping of fastify's
 * error handler and of the border-lookup lane (routes/api/lane-reply.ts), so both answer alike.
 */
export function problemOfError(error: unknown): { problem: Problem; retryAfter?: number } {
  const { code, detail, retryAfter } =
    typeof error === 'object' && error !== null
      ? classify(error as FastifyError | GatewayError)
      : { code: 'INTERNAL' as const, detail: 'internal error', retryAfter: undefined };
  const problem = problemOf(code, detail);
  return retryAfter === undefined ? { problem } : { problem, retryAfter };
}

/** Maps fastify's own errors (body limit, parser, validation) onto the gateway's codes. */
function classify(error: FastifyError | GatewayError): {
  code: ErrorCode;
  detail: string;
  retryAfter?: number;
} {
  if (error instanceof GatewayError) {
    const retryAfter = error.retryAfterSeconds;
    const detail = error.status >= 500 && error.code === 'INTERNAL' ? 'internal error' : error.message;
    return retryAfter === undefined ? { code: error.code, detail } : { code: error.code, detail, retryAfter };
  }
  // The schemas keep values within what the store holds; one that still slipped through is the input's fault.
  if (isDataException(error))
    return { code: 'BODY_INVALID', detail: 'a value is outside what can be stored' };
  if (error.validation) {
    const where = error.validationContext ?? 'request';
    return { code: 'BODY_INVALID', detail: `request ${describeErrors(error.validation, where).join('; ')}` };
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'BODY_TOO_LARGE', detail: 'the request body is over the limit of 10 MiB' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { code: 'UNSUPPORTED_MEDIA_TYPE', detail: ONLY_JSON_ACCEPTED };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { code: 'BODY_INVALID', detail: 'the body is not valid JSON' };
  }
  const status = error.statusCode ?? 500;
  if (status === 429) return { code: 'RATE_LIMITED', detail: 'rate limit exceeded' };
  if (status === 413) return { code: 'BODY_TOO_LARGE', detail: 'the request body is over the limit' };
  if (status === 415) return { code: 'UNSUPPORTED_MEDIA_TYPE', detail: ONLY_JSON_ACCEPTED };
  // Any other refusal of fastify's own below 500 is about the request.
  if (status >= 400 && status < 500) return { code: 'BODY_INVALID', detail: error.message };
  return { code: 'INTERNAL', detail: 'internal error' };
}

export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | GatewayError, request, reply) => {
    const { problem, retryAfter } = problemOfError(error);
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: problem.code }, 'request refused');
    return sendProblem(reply, problem, retryAfter);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problemOf('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );
}

/**
 * fastify answers a URL it cannot decode from its router, past every handler above, and a request node could
 * not parse (malformed, headers too large, too slow) straight on the socket; both would otherwise leave as
 * fastify's own JSON rather than a problem document. Passed to Fastify() as `frameworkErrors` and
 * `clientErrorHandler`.
 */
export function frameworkErrorHandler(
  error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  const problem =
    error.code === 'FST_ERR_ASYNC_CONSTRAINT'
      ? problemOf('INTERNAL', 'internal error')
      : problemOf('BAD_REQUEST', 'the request URL is not valid');
  void sendProblem(reply, problem);
}

export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has no one to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const problem =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? problemOf('REQUEST_TIMEOUT', 'the request did not arrive in time')
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? problemOf('HEADERS_TOO_LARGE', 'the request headers are too large')
        : problemOf('BAD_REQUEST', 'the request is not valid HTTP');
  const body = JSON.stringify(problem);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${problem.status} ${problem.title}\r\nContent-Type: application/problem+json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
