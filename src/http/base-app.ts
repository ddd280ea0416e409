/**
 * What every listener of the gateway shares: limits, problem documents, the accepted media types and rate
 * limiting. The partner-facing and the internal API apps are built on it.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerFactory } from 'fastify';
import type { Logger } from 'pino';
import { addDateFormats, INPUT_AS_GIVEN } from '../validation.ts';
import { clientKey } from './connection-guard.ts';
import { schemaController } from './openapi/compilers.ts';
import type { RequestGate } from './partner-gate.ts';
import {
  clientErrorHandler,
  frameworkErrorHandler,
  installProblemHandlers,
  ONLY_JSON_ACCEPTED,
  problemOf,
  sendProblem,
} from './problem.ts';
import { RateWindows } from './rate-window.ts';
import { isHealthRoute } from './routes/health.ts';
import { installStrictInput, parseQueryString } from './strict-input.ts';

/** docs/protocol.md, Transport: at most 10 MiB a request. */
export const BODY_LIMIT = 10 * 1024 * 1024;

/**
 * A handler that may answer a request on the listener's socket before fastify sees it, and says so; false
 * leaves the request untouched to fastify. The border-lookup lane is one (lookup-lane.ts): it answers only what
 * it can answer exactly as the routes would, and leaves every refusal to them.
 */
export type Lane = (request: IncomingMessage, response: ServerResponse) => boolean;

/** What a lane shares with the app it stands before: its rate limit and how a caller's address is read. */
export interface LaneSlot {
  lane: Lane | undefined;
  /** False once the app closes: requests then meet fastify's own 503. */
  open: boolean;
  readonly rate: RateWindows;
  readonly ratePerMinute: number;
  readonly trustProxy: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Where a route group installs its lane (operators.ts); only listeners made by a server factory have one. */
    laneSlot: LaneSlot;
  }
  interface FastifyRequest {
    /** adminId of the partner identified by its TLS client certificate, when mTLS is on. */
    partner: string | undefined;
  }
  interface FastifyContextConfig {
    /** Media types a POST route accepts besides application/json (bulk import). */
    mediaTypes?: readonly RegExp[];
  }
}

/** A caller's request id is kept when it is short and plain; anything else gets a new one. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The id of a request, in every log line of it and in the X-Request-Id response header. */
export function requestIdOf(raw: IncomingMessage): string {
  const given = raw.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

const JSON_MEDIA_TYPE = /^application\/json(?:;\s*charset=utf-8)?$/i;

/**
 * The Content-Type of a JSON answer, as fastify writes it for a serialised one: the lookup routes and their
 * lane send JSON bytes with it (routes/api/operators.ts, routes/api/lane-reply.ts).
 */
export const JSON_ANSWER_TYPE = 'application/json; charset=utf-8';

export interface BaseAppOptions {
  log: Logger;
  trustProxy: boolean;
  rateLimitPerMinute: number;
  serverFactory: FastifyServerFactory | undefined;
  /**
   * Decides, before any other hook and for URLs the router cannot decode too, whether a request goes on
   * (the partner listener's client certificate check, partner-gate.ts).
   */
  gate?: RequestGate;
}

/** The rate limit's window: a caller's count starts again after it. */
export const RATE_WINDOW_MS = 60_000;

/**
 * The key an address's requests are counted under, by fastify's limiter and the lane alike: the connection
 * guard's client (connection-guard.ts), so an IPv6 caller is one caller for its whole /64.
 */
export function rateKeyOf(address: string | undefined): string {
  return `ip:${clientKey(address)}`;
}

export async function createBaseApp(options: BaseAppOptions): Promise<FastifyInstance> {
  const slot: LaneSlot = {
    lane: undefined,
    open: true,
    rate: new RateWindows(RATE_WINDOW_MS),
    ratePerMinute: options.rateLimitPerMinute,
    trustProxy: options.trustProxy,
  };
  const factory = options.serverFactory;
  const serverFactory: FastifyServerFactory | undefined =
    factory &&
    ((handler, serverOptions) =>
      factory((request, response) => {
        if (slot.open && slot.lane?.(request, response) === true) return;
        handler(request, response);
      }, serverOptions));
  const app = Fastify({
    loggerInstance: options.log as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    trustProxy: options.trustProxy,
    return503OnClosing: true,
    // Not requestIdHeader: fastify would take the header as it came; requestIdOf bounds it first.
    requestIdHeader: false,
    genReqId: requestIdOf,
    forceCloseConnections: 'idle',
    // fastify's compilers, except for schemas that only document a route (openapi/compilers.ts).
    schemaController: schemaController(),
    // A URL the router cannot decode meets the gate first: an unidentified caller learns nothing more.
    frameworkErrors: (error, request, reply) => {
      if (options.gate?.(request, reply) === undefined) frameworkErrorHandler(error, request, reply);
    },
    clientErrorHandler,
    routerOptions: { querystringParser: parseQueryString },
    ajv: {
      // allErrors is set by the compiler: off to validate, on to describe a small input (openapi/compilers.ts).
      customOptions: { ...INPUT_AS_GIVEN, allErrors: false },
      // After ajv-formats: a route's dates follow the one rule of the signed payloads' schemas.
      onCreate: addDateFormats,
    },
    ...(serverFactory ? { serverFactory } : {}),
  });
  app.decorate('laneSlot', slot);
  app.addHook('preClose', async () => {
    slot.open = false;
  });
  app.decorateRequest('partner', undefined);
  // The first hook of all: the request id on every answer, then the gate (before the media type, the rate limit).
  const gate = options.gate;
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    return gate?.(request, reply);
  });
  installProblemHandlers(app);
  installStrictInput(app);

  // Only the canonical media type reaches a parser; odd casing is handled identically, anything else is 415.
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'POST') return undefined;
    const type = (request.headers['content-type'] ?? '').trim();
    const extra = request.routeOptions.config.mediaTypes ?? [];
    if (!JSON_MEDIA_TYPE.test(type) && !extra.some((m) => m.test(type))) {
      return sendProblem(reply, problemOf('UNSUPPORTED_MEDIA_TYPE', ONLY_JSON_ACCEPTED));
    }
    return undefined;
  });

  await app.register(rateLimit, {
    global: true,
    max: options.rateLimitPerMinute,
    timeWindow: RATE_WINDOW_MS,
    // The same count as the lanes' (rate-window.ts).
    store: slot.rate.storeClass(),
    // X-Forwarded-* only count when a proxy is configured (trustProxy), through request.ip.
    keyGenerator: (request) =>
      request.partner === undefined ? rateKeyOf(request.ip) : `partner:${request.partner}`,
    allowList: isHealthRoute,
    errorResponseBuilder: (_request, context) => ({
      ...problemOf('RATE_LIMITED', `more than ${context.max} requests in ${context.after}`),
      statusCode: 429,
    }),
  });
  return app;
}
