import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/types.ts';

/**
 * Liveness and readiness. Readiness needs the database; without Redis the gateway still receives records and
 * publishes (the outbox is in PostgreSQL), so it answers 200 `degraded` with `redis: false` (docs/threats.md 53).
 * `queueReady` must be bounded in time; when absent, Redis is not reported.
 */
export function registerHealthRoutes(
  app: FastifyInstance,
  store: Store,
  queueReady?: () => Promise<boolean>,
): void {
  app.get('/health/live', async () => ({ status: 'ok' }));
  app.get('/health/ready', async (_request, reply) => {
    const [database, redis] = await Promise.all([store.ping(), queueReady?.()]);
    const status = !database ? 'not-ready' : redis === false ? 'degraded' : 'ready';
    return reply
      .code(database ? 200 : 503)
      .send(redis === undefined ? { status, database } : { status, database, redis });
  });
}
