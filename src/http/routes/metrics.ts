/**
 * `GET /metrics`: the gateway's Prometheus metrics in the text exposition format, on the internal API listener
 * behind the `monitoring` scope (app.ts), and optionally on a listener of its own (`metrics.port`, loopback by
 * default) for a scraper that holds no token.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../../config/types.ts';
import type { GatewayMetrics } from '../../metrics/metrics.ts';
import { createBaseApp } from '../base-app.ts';
import { mediaResponse, problems } from '../openapi/problem-schema.ts';
import { apiListener, serverFactoryFor } from '../server.ts';

/** What a metrics route renders: a gateway's registry, or a cluster's aggregate of its processes' registries. */
export type MetricsSource = Pick<GatewayMetrics, 'render' | 'contentType'>;

export function registerMetricsRoute(app: FastifyInstance, metrics: MetricsSource): void {
  const schema = {
    summary: 'Prometheus metrics, in the text exposition format',
    response: {
      200: mediaResponse('The metrics.', 'text/plain'),
      ...problems(401, 403),
    },
  };
  app.get('/metrics', { logLevel: 'warn', schema }, async (_request, reply) => {
    const text = await metrics.render();
    return reply.header('cache-control', 'no-store').type(metrics.contentType).send(text);
  });
}

/**
 * The metrics listener of its own (`metrics.port`): `GET /metrics` and nothing else, no token. Bound to
 * loopback unless `metrics.host` says otherwise: whoever reaches it reads the figures. Plain HTTP, with the
 * internal API listener's timeouts and connection caps (docs/threats.md 76: every listener has them).
 */
export async function buildMetricsApp(
  metrics: MetricsSource,
  log: Logger,
  config: GatewayConfig,
): Promise<FastifyInstance> {
  const app = await createBaseApp({
    log: log.child({ listener: 'metrics' }),
    trustProxy: false,
    rateLimitPerMinute: 600,
    serverFactory: serverFactoryFor({ ...apiListener(config), tls: undefined }, []),
  });
  registerMetricsRoute(app, metrics);
  return app;
}
