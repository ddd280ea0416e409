/**
 * What every listener of the gateway shares: limits, problem documents, the accepted media types and rate
 * limiting. The partner-facing and the internal API apps are built on it.
 */
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerFactory } from 'fastify';
import type { Logger } from 'pino';
import { addDateFormats } from '../validation.ts';
import {
  clientErrorHandler,
  frameworkErrorHandler,
  installProblemHandlers,
  problemOf,
  sendProblem,
} from './problem.ts';
import { installStrictInput, parseQueryString } from './strict-input.ts';

/** docs/protocol.md, Transport: at most 10 MiB a request. */
export const BODY_LIMIT = 10 * 1024 * 1024;

declare module 'fastify' {
  interface FastifyRequest {
    /** adminId of the partner identified by its TLS client certificate, when mTLS is on. */
    partner: string | undefined;
  }
  interface FastifyContextConfig {
    /** Media types a POST route accepts besides application/json (bulk import). */
    mediaTypes?: readonly RegExp[];
  }
}

const JSON_MEDIA_TYPE = /^application\/json(?:;\s*charset=utf-8)?$/i;

export interface BaseAppOptions {
  log: Logger;
  trustProxy: boolean;
  rateLimitPerMinute: number;
  serverFactory: FastifyServerFactory | undefined;
}

export async function createBaseApp(options: BaseAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.log as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    trustProxy: options.trustProxy,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    routerOptions: { querystringParser: parseQueryString },
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false },
      // After ajv-formats: a route's dates follow the one rule of the signed payloads' schemas.
      onCreate: addDateFormats,
    },
    ...(options.serverFactory ? { serverFactory: options.serverFactory } : {}),
  });
  installProblemHandlers(app);
  installStrictInput(app);
  app.decorateRequest('partner', undefined);

  // Only the canonical media type reaches a parser; odd casing is handled identically, anything else is 415.
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'POST') return undefined;
    const type = (request.headers['content-type'] ?? '').trim();
    const extra = request.routeOptions.config.mediaTypes ?? [];
    if (!JSON_MEDIA_TYPE.test(type) && !extra.some((m) => m.test(type))) {
      return sendProblem(reply, problemOf('UNSUPPORTED_MEDIA_TYPE', 'only application/json is accepted'));
    }
    return undefined;
  });

  await app.register(rateLimit, {
    global: true,
    max: options.rateLimitPerMinute,
    timeWindow: 60_000,
    // X-Forwarded-* only count when a proxy is configured (trustProxy), through request.ip.
    keyGenerator: (request) =>
      request.partner === undefined ? `ip:${request.ip}` : `partner:${request.partner}`,
    allowList: (request) => request.url.startsWith('/health/'),
    errorResponseBuilder: (_request, context) => ({
      ...problemOf('RATE_LIMITED', `more than ${context.max} requests in ${context.after}`),
      statusCode: 429,
    }),
  });
  return app;
}
