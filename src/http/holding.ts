/**
 * What the internal API listener answers while the gateway waits for its database at start (docs/threats.md 68):
 * alive, not ready, and a 503 problem document with Retry-After for everything else. Closed once the database
 * answers and before the gateway's own listeners open.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.ts';
import { problemOf, sendProblem } from './problem.ts';
import { apiListener, listenFailure, listeningText, serverFactoryFor } from './server.ts';

export const WAITING_RETRY_AFTER_SECONDS = 5;

export async function openHoldingListener(config: GatewayConfig, log: Logger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    disableRequestLogging: true,
    serverFactory: serverFactoryFor(apiListener(config), []),
  });
  app.get('/health/live', async () => ({ status: 'ok' }));
  app.get('/health/ready', async (_request, reply) =>
    reply.code(503).send({ status: 'not-ready', database: false }),
  );
  app.setNotFoundHandler((_request, reply) =>
    sendProblem(
      reply,
      problemOf('STORE_UNAVAILABLE', 'the gateway is waiting for its database'),
      WAITING_RETRY_AFTER_SECONDS,
    ),
  );
  const { host, port } = config.api;
  try {
    await app.listen({ host, port, listenTextResolver: listeningText(config.api.tls !== undefined) });
  } catch (error) {
    throw listenFailure(error, host, port);
  }
  return app;
}
