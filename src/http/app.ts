/**
 * The gateway's two HTTP applications, as factories: the partner-facing app (`/mra/v1`, mutual TLS) and the
 * internal API app (`/api/v1`, bearer tokens) for the home administration's own systems. server.ts only adds
 * TLS and timeouts; compose.ts builds every service they route to, gateway.ts listens and shuts down.
 */
import type { FastifyInstance, FastifyServerFactory } from 'fastify';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.ts';
import type { DeliveryStatus } from '../delivery/status.ts';
import type { PartnerSync } from '../inbound/partner-sync.ts';
import type { InboundService } from '../inbound/receive.ts';
import type { Answerer } from '../lookup/answer.ts';
import type { FeedbackService } from '../lookup/feedback.ts';
import type { LoadState } from '../lookup/service.ts';
import type { GatewayMetrics } from '../metrics/metrics.ts';
import type { ReportService } from '../monitoring/report.ts';
import type { SummaryService } from '../monitoring/summaries/service.ts';
import type { Subscriptions } from '../notifications/subscriptions.ts';
import type { Snapshots } from '../partner-api/snapshot.ts';
import type { Publisher } from '../publishing/publish.ts';
import type { BoardQueue } from '../queue/board.ts';
import type { RegisterImporter } from '../register-import/importer.ts';
import type { Store } from '../store/types.ts';
import { refuseApiTokens, requireScope } from './api-auth.ts';
import { createBaseApp } from './base-app.ts';
import { DashboardSessions } from './dashboard-session.ts';
import { registerOpenApi, registerOpenApiRoutes } from './openapi/document.ts';
import { partnerGate } from './partner-gate.ts';
import { createPeerIdentifier } from './peer.ts';
import { registerDecisionRoutes } from './routes/api/decisions.ts';
import { registerDeliveryStatusRoutes, registerReplayRoute } from './routes/api/deliveries.ts';
import { registerFeedbackRoute, registerFeedbackSummaryRoute } from './routes/api/feedback.ts';
import { registerImportRoutes } from './routes/api/imports.ts';
import { registerMonitoringReportRoute } from './routes/api/monitoring.ts';
import { registerOperatorRoutes } from './routes/api/operators.ts';
import { registerPartnerSyncRoutes, registerReconciliationRoutes } from './routes/api/partners.ts';
import { registerSubscriptionRoutes } from './routes/api/subscriptions.ts';
import { registerSummaryRoutes } from './routes/api/summaries.ts';
import { registerDashboardRoutes } from './routes/dashboard.ts';
import { registerFeedRoutes } from './routes/feed.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerMetricsRoute } from './routes/metrics.ts';
import { registerMonitoringRoutes } from './routes/monitoring.ts';
import { registerQueueBoard } from './routes/queues.ts';
import { registerRecordsRoute } from './routes/records.ts';
import { registerWellKnownRoute } from './routes/well-known.ts';

export { BODY_LIMIT } from './base-app.ts';

/** What every route works with, built once by the composition root (compose.ts). */
export interface AppDeps {
  config: GatewayConfig;
  store: Store;
  log: Logger;
  clock: () => Date;
  /** The gateway's Prometheus registry and counters. */
  metrics: GatewayMetrics;
  /** The queues for the queue view at /queues. */
  queueBoard: () => BoardQueue[];
  inbound: InboundService;
  /** The feed and snapshot served to partners. */
  snapshots: Snapshots;
  publisher: Publisher;
  importer: RegisterImporter;
  /** Delivery status and replay. */
  deliveries: DeliveryStatus;
  /** Whether outbound delivery runs and Redis answers, for readiness. */
  queueReady: () => Promise<boolean>;
  /** The lookup read model's load in progress, for readiness; undefined once it is loaded. */
  readModelLoading?: () => LoadState | undefined;
  /** Border lookups from the read model. */
  lookup: Answerer;
  /** Border systems' feedback on benefits applied or refused, and its summary for monitoring reviews. */
  feedback: FeedbackService;
  subscriptions: Subscriptions;
  /** Feed catch-up and reconciliation with each partner. */
  sync: PartnerSync;
  /** Monitoring summaries exchanged with partners: received, served, issued, pushed. */
  summaries: SummaryService;
  /** The monitoring report of an MRA over a period. */
  reports: ReportService;
  /** Creates the node server (TLS, timeouts). */
  serverFactory: FastifyServerFactory;
}

export async function buildPartnerApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const identify = createPeerIdentifier(config.partners, deps.inbound.chainCache);
  const app = await createBaseApp({
    log: deps.log,
    trustProxy: config.server.trustProxy,
    rateLimitPerMinute: config.server.rateLimitPerMinute,
    serverFactory: deps.serverFactory,
    // Under mTLS, the client certificate is checked first of all (partner-gate.ts), so limits are per partner.
    ...(config.server.mtls
      ? {
          gate: partnerGate({
            partners: config.partners,
            identify: (request) => identify(request.raw),
            perMinute: config.server.rateLimitPerMinute,
            log: deps.log,
            refused: () => deps.metrics.partnerRefused('certificate'),
          }),
        }
      : {}),
  });
  await registerOpenApi(app, 'partner', config);
  // Not the lookup model's load: inbound works meanwhile, so partners' batches keep coming to this replica.
  registerHealthRoutes(app, deps.store, deps.queueReady);
  await app.register(
    async (mra) => {
      refuseApiTokens(mra, config.apiClients);
      registerWellKnownRoute(mra, config);
      registerRecordsRoute(mra, deps.inbound);
      await registerFeedRoutes(mra, {
        config,
        store: deps.store,
        snapshots: deps.snapshots,
        cache: deps.inbound.chainCache,
        clock: deps.clock,
        metrics: deps.metrics,
      });
      await registerMonitoringRoutes(mra, {
        config,
        store: deps.store,
        summaries: deps.summaries,
        cache: deps.inbound.chainCache,
        clock: deps.clock,
        metrics: deps.metrics,
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
    rateLimitPerMinute: config.api.rateLimitPerMinute,
    serverFactory: deps.serverFactory,
  });
  await registerOpenApi(app, 'api', config);
  await registerOpenApiRoutes(app, config);
  registerHealthRoutes(app, deps.store, deps.queueReady, deps.readModelLoading);
  // The dashboard, outside /api/v1: a browser signs in once with a token and then holds a session cookie.
  const sessions = new DashboardSessions(deps.store, config.apiClients, deps.clock);
  await registerDashboardRoutes(app, { config, store: deps.store, clock: deps.clock, sessions });
  // Prometheus metrics and the queue view, outside /api/v1 like the dashboard.
  await app.register(async (monitoring) => {
    requireScope(monitoring, config.apiClients, 'monitoring');
    registerMetricsRoute(monitoring, deps.metrics);
  });
  await registerQueueBoard(app, {
    clients: config.apiClients,
    sessions,
    queues: deps.queueBoard,
    reachable: deps.queueReady,
  });
  // Each route group sits behind the scope it needs.
  await app.register(
    async (api) => {
      await api.register(async (publishing) => {
        requireScope(publishing, config.apiClients, 'publish');
        registerDecisionRoutes(publishing, deps.publisher);
        registerImportRoutes(publishing, deps.importer);
      });
      await api.register(async (status) => {
        requireScope(status, config.apiClients, ['publish', 'admin']);
        registerDeliveryStatusRoutes(status, deps.deliveries);
      });
      await api.register(async (admin) => {
        requireScope(admin, config.apiClients, 'admin');
        registerReplayRoute(admin, deps.deliveries);
      });
      await api.register(async (border) => {
        requireScope(border, config.apiClients, 'border');
        registerOperatorRoutes(border, {
          lookup: deps.lookup,
          clock: deps.clock,
          clients: config.apiClients,
          answered: (seconds) => deps.metrics.lookupAnswered(seconds),
          log: deps.log,
        });
      });
      await api.register(async (border) => {
        requireScope(border, config.apiClients, 'border');
        registerFeedbackRoute(border, deps.feedback);
      });
      await api.register(async (monitoring) => {
        requireScope(monitoring, config.apiClients, 'monitoring');
        registerFeedbackSummaryRoute(monitoring, deps.feedback);
      });
      await api.register(async (monitoring) => {
        requireScope(monitoring, config.apiClients, 'monitoring');
        registerSummaryRoutes(monitoring, deps.summaries);
      });
      await api.register(async (monitoring) => {
        requireScope(monitoring, config.apiClients, 'monitoring');
        registerMonitoringReportRoute(monitoring, deps.reports);
      });
      await api.register(async (border) => {
        requireScope(border, config.apiClients, 'border');
        registerSubscriptionRoutes(border, deps.subscriptions);
      });
      await api.register(async (admin) => {
        requireScope(admin, config.apiClients, 'admin');
        registerPartnerSyncRoutes(admin, deps.sync);
      });
      await api.register(async (reports) => {
        requireScope(reports, config.apiClients, ['admin', 'monitoring']);
        registerReconciliationRoutes(reports, deps.sync);
      });
    },
    { prefix: '/api/v1' },
  );
  return app;
}
