import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { LoadState } from '../../lookup/service.ts';
import type { Store } from '../../store/types.ts';
import { serverFailure } from '../openapi/problem-schema.ts';
import { liveResponse, notReadyResponse, readyResponse } from '../openapi/responses.ts';

/**
 * The health probes' routes, exactly: answered without a partner's certificate and never rate limited. Matched
 * by route (request.routeOptions.url), never by a URL prefix that a crafted path could share.
 */
export const HEALTH_ROUTES: readonly string[] = ['/health/live', '/health/ready'];

export function isHealthRoute(request: FastifyRequest): boolean {
  const route = request.routeOptions.url;
  return route !== undefined && HEALTH_ROUTES.includes(route);
}

/** How long one readiness check answers for: a probe storm costs one store ping and one Redis check a second. */
export const READINESS_CACHE_MS = 1_000;

interface Readiness {
  database: boolean;
  redis: boolean | undefined;
}

/** One check in flight at a time, its result reused for READINESS_CACHE_MS after it ends. */
function cachedReadiness(store: Store, queueReady?: () => Promise<boolean>): () => Promise<Readiness> {
  let last: { at: number; value: Readiness } | undefined;
  let inFlight: Promise<Readiness> | undefined;
  return () => {
    if (last !== undefined && Date.now() - last.at < READINESS_CACHE_MS) return Promise.resolve(last.value);
    inFlight ??= (async () => {
      try {
        const [database, redis] = await Promise.all([store.ping(), queueReady?.()]);
        const value = { database, redis };
        last = { at: Date.now(), value };
        return value;
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  };
}

/**
 * Liveness and readiness. Readiness needs the database; without Redis the gateway still receives records and
 * publishes (the outbox is in PostgreSQL), so it answers 200 `degraded` with `redis: false` (docs/threats.md 53).
 * `queueReady` must be bounded in time; when absent, Redis is not reported. While the lookup read model loads
 * (`readModelLoading` answers its progress), readiness is 503 with a `readModel` member saying how far it is:
 * lookups are refused until then, although records are received and decisions published meanwhile.
 */
export function registerHealthRoutes(
  app: FastifyInstance,
  store: Store,
  queueReady?: () => Promise<boolean>,
  readModelLoading?: () => LoadState | undefined,
): void {
  app.get(
    '/health/live',
    { schema: { summary: 'Liveness', response: { 200: liveResponse, ...serverFailure(400) } } },
    async () => ({ status: 'ok' }),
  );
  const ready = { 200: readyResponse, 503: notReadyResponse, ...serverFailure(400) };
  const readiness = cachedReadiness(store, queueReady);
  app.get('/health/ready', { schema: { summary: 'Readiness', response: ready } }, async (_request, reply) => {
    const { database, redis } = await readiness();
    const loading = readModelLoading?.();
    const ready = database && loading === undefined;
    const status = !ready ? 'not-ready' : redis === false ? 'degraded' : 'ready';
    const body = redis === undefined ? { status, database } : { status, database, redis };
    if (loading === undefined) return reply.code(ready ? 200 : 503).send(body);
    const readModel = { state: 'loading', ...loading };
    return reply
      .code(503)
      .header('retry-after', '1')
      .send({ ...body, readModel });
  });
}
