/**
 * The gateway's two HTTP applications, as factories: the partner-facing app (`/mra/v1`, mutual TLS) and the
 * internal API app (`/api/v1`, bearer tokens) for the home administration's own systems. server.ts only adds
 * TLS and timeouts; gateway.ts listens and shuts down.
 */
import type { FastifyInstance, FastifyServerFactory } from 'fastify';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.ts';
import type { PartnerSync } from '../inbound/partner-sync.ts';
import type { InboundService } from '../inbound/receive.ts';
import type { Answerer } from '../lookup/answer.ts';
import { createFeedback } from '../lookup/feedback.ts';
import { createSubscriptions } from '../notifications/subscriptions.ts';
import { createDeliveryStatus, type DeliveryStatus } from '../outbound/delivery-status.ts';
import type { Publisher } from '../outbound/publish.ts';
import { createRegisterImporter } from '../outbound/register-import.ts';
import { createSnapshots } from '../outbound/snapshot.ts';
import type { Store } from '../store/types.ts';
import { refuseApiTokens, requireScope } from './api-auth.ts';
import { createBaseApp } from './base-app.ts';
import { createPeerIdentifier } from './peer.ts';
import { problemOf, sendProblem } from './problem.ts';
import { registerDecisionRoutes } from './routes/api/decisions.ts';
import { registerDeliveryStatusRoutes, registerReplayRoute } from './routes/api/deliveries.ts';
import { registerFeedbackRoute, registerFeedbackSummaryRoute } from './routes/api/feedback.ts';
import { registerImportRoutes } from './routes/api/imports.ts';
import { registerOperatorRoutes } from './routes/api/operators.ts';
import { registerPartnerSyncRoutes, registerReconciliationRoutes } from './routes/api/partners.ts';
import { registerSubscriptionRoutes } from './routes/api/subscriptions.ts';
import { registerFeedRoutes } from './routes/feed.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerRecordsRoute } from './routes/records.ts';
import { registerWellKnownRoute } from './routes/well-known.ts';

export { BODY_LIMIT } from './base-app.ts';

export interface AppDeps {
  config: GatewayConfig;
  store: Store;
  inbound: InboundService;
  publisher: Publisher;
  log: Logger;
  /** Feed catch-up and reconciliation; their admin routes are registered only when given. */
  sync?: PartnerSync;
  clock?: () => Date;
  /** Delivery status and replay; made from the store alone when absent (a replay then waits for the relay's tick). */
  deliveries?: DeliveryStatus;
  /** Whether outbound delivery runs and Redis answers, for readiness; not reported when absent. */
  queueReady?: () => Promise<boolean>;
  /** Wakes the notification relay (after a replay of dead letters); its tick picks them up when absent. */
  notificationsWake?: () => void;
  /** Border lookups from the read model; their routes are registered only when given. */
  lookup?: Answerer;
  /** Creates the node server (TLS, timeouts); omitted in inject-only tests. */
  serverFactory?: FastifyServerFactory;
}

export async function buildPartnerApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const app = await createBaseApp({
    log: deps.log,
    trustProxy: config.server.trustProxy,
    rateLimitPerMinute: config.server.rateLimitPerMinute,
    serverFactory: deps.serverFactory,
  });
  const identify = createPeerIdentifier(config.partners, deps.inbound.chainCache);
  // Registered before the rate limiter's hook runs (onRequest hooks run in order), so limits are per partner.
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
  registerHealthRoutes(app, deps.store, deps.queueReady);
  await app.register(
    async (mra) => {
      refuseApiTokens(mra, config.apiClients);
      registerWellKnownRoute(mra, config);
      registerRecordsRoute(mra, deps.inbound);
      const clock = deps.clock ?? (() => new Date());
      await registerFeedRoutes(mra, {
        config,
        store: deps.store,
        snapshots: createSnapshots({ store: deps.store, home: config.home.adminId, clock }),
        cache: deps.inbound.chainCache,
        clock,
      });
    },
    { prefix: '/mra/v1' },
  );
  return app;
}

export async function buildApiApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const app = await createBaseApp({
    log: deps.log,
    trustProxy: config.server.trustProxy,
    rateLimitPerMinute: Math.max(config.server.rateLimitPerMinute, 6_000),
    serverFactory: deps.serverFactory,
  });
  registerHealthRoutes(app, deps.store, deps.queueReady);
  // Each route group sits behind the scope it needs.
  await app.register(
    async (api) => {
      await api.register(async (publishing) => {
        requireScope(publishing, config.apiClients, 'publish');
        registerDecisionRoutes(publishing, deps.publisher);
        registerImportRoutes(
          publishing,
          createRegisterImporter({ store: deps.store, publisher: deps.publisher }),
        );
      });
      const deliveries = deps.deliveries ?? createDeliveryStatus(deps.store);
      await api.register(async (status) => {
        requireScope(status, config.apiClients, ['publish', 'admin']);
        registerDeliveryStatusRoutes(status, deliveries);
      });
      await api.register(async (admin) => {
        requireScope(admin, config.apiClients, 'admin');
        registerReplayRoute(admin, deliveries);
      });
      const lookup = deps.lookup;
      if (lookup !== undefined) {
        await api.register(async (border) => {
          requireScope(border, config.apiClients, 'border');
          registerOperatorRoutes(border, lookup, deps.clock ?? (() => new Date()));
        });
      }
      // Border systems' feedback on benefits applied or refused, and its summary for monitoring reviews.
      const feedback = createFeedback({ sql: deps.store, partners: config.partners, clock: deps.clock });
      await api.register(async (border) => {
        requireScope(border, config.apiClients, 'border');
        registerFeedbackRoute(border, feedback);
      });
      await api.register(async (monitoring) => {
        requireScope(monitoring, config.apiClients, 'monitoring');
        registerFeedbackSummaryRoute(monitoring, feedback);
      });
      await api.register(async (border) => {
        requireScope(border, config.apiClients, 'border');
        registerSubscriptionRoutes(
          border,
          createSubscriptions({
            store: deps.store,
            settings: config.notifications,
            clock: deps.clock,
            onReplayed: deps.notificationsWake,
          }),
        );
      });
      const sync = deps.sync;
      if (sync !== undefined) {
        await api.register(async (admin) => {
          requireScope(admin, config.apiClients, 'admin');
          registerPartnerSyncRoutes(admin, sync);
        });
        await api.register(async (reports) => {
          requireScope(reports, config.apiClients, ['admin', 'monitoring']);
          registerReconciliationRoutes(reports, sync);
        });
      }
    },
    { prefix: '/api/v1' },
  );
  return app;
}
