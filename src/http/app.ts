/**
 * The gateway's HTTP application as a factory: tests build one per case and drive it with `inject` or over a
 * real socket; server.ts only adds listening and shutdown.
 */
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerFactory } from 'fastify';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.ts';
import type { InboundService } from '../inbound/receive.ts';
import type { Store } from '../store/types.ts';
import { createPeerIdentifier } from './peer.ts';
import {
  clientErrorHandler,
  frameworkErrorHandler,
  installProblemHandlers,
  problemOf,
  sendProblem,
} from './problem.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerRecordsRoute } from './routes/records.ts';
import { registerWellKnownRoute } from './routes/well-known.ts';

/** PROTOCOL.md, Transport: at most 10 MiB a request. */
export const BODY_LIMIT = 10 * 1024 * 1024;

export interface AppDeps {
  config: GatewayConfig;
  store: Store;
  inbound: InboundService;
  log: Logger;
  /** Creates the node server (TLS, timeouts); omitted in inject-only tests. */
  serverFactory?: FastifyServerFactory;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** adminId of the partner identified by its TLS client certificate, when mTLS is on. */
    partner: string | undefined;
  }
}

const MEDIA_TYPE = /^application\/json(?:;\s*charset=utf-8)?$/i;

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    trustProxy: config.server.trustProxy,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false },
    },
    ...(deps.serverFactory ? { serverFactory: deps.serverFactory } : {}),
  });
  installProblemHandlers(app);

  const identify = createPeerIdentifier(config.partners, deps.inbound.chainCache);
  app.decorateRequest('partner', undefined);
  app.addHook('onRequest', async (request, reply) => {
    request.partner = config.server.mtls ? identify(request.raw) : undefined;
    // OpenSSL only checked that the certificate chains to some anchor; one the gateway's own chain rules
    // accept for no partner is refused, never judged as if mTLS were off (sender by signatures alone).
    if (config.server.mtls && request.partner === undefined && !request.url.startsWith('/health/')) {
      return sendProblem(
        reply,
        problemOf('PARTNER_UNKNOWN', 'the client certificate does not identify a partner'),
      );
    }
    return undefined;
  });

  // Only the canonical media type reaches a parser; odd casing is handled identically, anything else is 415.
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'POST') return;
    const type = (request.headers['content-type'] ?? '').trim();
    if (!MEDIA_TYPE.test(type)) {
      return sendProblem(reply, problemOf('UNSUPPORTED_MEDIA_TYPE', 'only application/json is accepted'));
    }
    return undefined;
  });

  await app.register(rateLimit, {
    global: true,
    max: config.server.rateLimitPerMinute,
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

  registerHealthRoutes(app, deps.store);
  await app.register(
    async (mra) => {
      registerWellKnownRoute(mra, config);
      registerRecordsRoute(mra, deps.inbound);
    },
    { prefix: '/mra/v1' },
  );
  return app;
}
