import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/types.ts';

export function registerHealthRoutes(app: FastifyInstance, store: Store): void {
  app.get('/health/live', async () => ({ status: 'ok' }));
  app.get('/health/ready', async (_request, reply) => {
    const database = await store.ping();
    return reply.code(database ? 200 : 503).send({ status: database ? 'ready' : 'not-ready', database });
  });
}
