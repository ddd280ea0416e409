/**
 * The composition root: configuration and an open store → every service, built here once → the two HTTP apps,
 * ready for requests but not listening, and an orderly shutdown. gateway.ts opens the store, listens and
 * starts the timers that run without requests.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { GatewayConfig } from './config/types.ts';
import { verifyPool } from './crypto/verify-pool.ts';
import { startDelivery } from './delivery/delivery.ts';
import { createDeliveryStatus } from './delivery/status.ts';
import { type AppDeps, buildApiApp, buildPartnerApp } from './http/app.ts';
import { apiListener, serverFactoryFor } from './http/server.ts';
import { createPartnerSync, type PartnerSync } from './inbound/partner-sync.ts';
import { createInboundService } from './inbound/receive.ts';
import { createFeedback } from './lookup/feedback.ts';
import { startLookup } from './lookup/service.ts';
import { GatewayMetrics } from './metrics/metrics.ts';
import { recordMraTerms } from './monitoring/mra-history.ts';
import { createReportService } from './monitoring/report.ts';
import { createSummaryService } from './monitoring/summaries/service.ts';
import { notifyWithin, startNotifications } from './notifications/service.ts';
import { createSubscriptions } from './notifications/subscriptions.ts';
import { createSnapshots } from './partner-api/snapshot.ts';
import { createPublisher } from './publishing/publish.ts';
import { boardQueues } from './queue/board.ts';
import { createQueueRuntime, workerCloseGraceMs } from './queue/runtime.ts';
import { createRegisterImporter } from './register-import/importer.ts';
import type { Store } from './store/types.ts';

export type Services = Omit<AppDeps, 'serverFactory'>;

export interface ComposedGateway {
  config: GatewayConfig;
  /** The partner-facing app: /mra/v1, mutual TLS in production. */
  app: FastifyInstance;
  /** The internal app of the home administration's own systems: /api/v1, bearer tokens. */
  apiApp: FastifyInstance;
  store: Store;
  /** Feed catch-up and reconciliation with each partner; run once by tests and the admin API. */
  sync: PartnerSync;
  services: Services;
  /** Resolves once the lookup read model is loaded (lookups answer 503 NOT_READY until then). */
  readModelLoaded: Promise<void>;
  /** The first step of a stop: the lookup read model's snapshot, before waiting for work in progress. */
  snapshotBeforeClose(): Promise<void>;
  /**
   * The other first step of a stop: the apps take no new request (503, then their listeners closed) and finish
   * the ones in progress. Once; close() does it too.
   */
  stopAccepting(): Promise<void>;
  /** Closes the apps (and their listeners, if any), then the background work, then the store if owned. */
  close(): Promise<void>;
}

export interface ComposeOptions {
  log: Logger;
  store: Store;
  /** Whether close() closes the store too (it was opened for this gateway). */
  ownsStore: boolean;
  clock?: () => Date;
  /** Where the gateway's metrics are counted; a registry of its own when absent. */
  metrics?: GatewayMetrics;
}

export async function composeGateway(
  config: GatewayConfig,
  options: ComposeOptions,
): Promise<ComposedGateway> {
  const { log, store } = options;
  const metrics = options.metrics ?? new GatewayMetrics();
  const clock = options.clock ? { clock: options.clock } : {};
  const closeStore = async () => {
    if (options.ownsStore) await store.close();
  };
  // The MRA terms this start runs with, kept before anything is exchanged under them.
  await recordMraTerms(store, config.partners, (options.clock ?? (() => new Date()))()).catch(
    async (error: unknown) => {
      await closeStore();
      throw error;
    },
  );
  // Every Redis connection of the job queues, shared by delivery and notifications, closed after both.
  const queues = createQueueRuntime(config.redis, log.child({ component: 'queue' }));
  const closeQueues = () => queues.close(workerCloseGraceMs(config));
  // Before any listener: a Redis that evicts keys stops the start here (docs/threats.md 55); one that is down
  // does not (docs/threats.md 53).
  const delivery = await startDelivery({ config, store, log, queues, metrics }).catch(
    async (error: unknown) => {
      await closeQueues();
      await closeStore();
      throw error;
    },
  );
  // The read model loads behind the listeners (from its snapshot, else from the evidence): until it is loaded,
  // lookups answer 503 NOT_READY and readiness says so; batches received meanwhile are applied after the load.
  const lookup = await startLookup({ config, store, log }).catch(async (error: unknown) => {
    await delivery.close();
    await closeQueues();
    await closeStore();
    throw error;
  });
  const notifications = await startNotifications({ config, store, log, queues, metrics, ...clock }).catch(
    async (error: unknown) => {
      await Promise.all([delivery.close(), lookup.close()]);
      await closeQueues();
      await closeStore();
      throw error;
    },
  );
  const inbound = createInboundService({
    config,
    store,
    log,
    ...clock,
    onCommitted: (change) => lookup.committed(change),
    inTransaction: notifyWithin(config, notifications),
    metrics,
  });
  const publisher = createPublisher({
    config,
    store,
    ...clock,
    onPublished: (records, partners) => {
      metrics.published(records);
      delivery.wake(partners);
    },
  });
  const sync = createPartnerSync({ config, store, inbound, log, ...clock });
  const now = options.clock ?? (() => new Date());
  metrics.knownPartners(config.partners.map((p) => p.adminId));
  metrics.watch({
    queues: () => queues.depths(),
    lookups: () => lookup.counts.totalsByOutcome(),
    freshness: () => {
      const held = lookup.model.operatorsByIssuer();
      return config.partners.map((p) => ({
        partner: p.adminId,
        lastAppliedMs: lookup.model.lastReceivedFrom(p.adminId),
        operators: held.get(p.adminId) ?? 0,
      }));
    },
    pool: () => store.stats?.(),
    clock: () => now().getTime(),
    verifyThreads: () => verifyPool().workers(),
  });
  const services: Services = {
    config,
    store,
    log,
    clock: now,
    metrics,
    queueBoard: () => boardQueues(queues),
    inbound,
    snapshots: createSnapshots({ store, home: config.home.adminId, clock: now }),
    publisher,
    importer: createRegisterImporter({ store, publisher }),
    deliveries: createDeliveryStatus(store, () => delivery.wake()),
    queueReady: () => delivery.ready(),
    readModelLoading: () => lookup.loading,
    lookup,
    feedback: createFeedback({ sql: store, partners: config.partners, clock: options.clock }),
    subscriptions: createSubscriptions({
      store,
      settings: config.notifications,
      clock: options.clock,
      onReplayed: () => notifications.wake(),
    }),
    sync,
    reports: createReportService({
      store,
      config,
      clock: now,
      flushLookups: () => lookup.counts.flush(store),
    }),
    summaries: createSummaryService({
      config,
      store,
      log,
      clock: now,
      cache: inbound.chainCache,
      flushLookups: () => lookup.counts.flush(store),
    }),
  };

  const background = async () => {
    await Promise.all([delivery.close(), lookup.close(), notifications.close()]);
    await closeQueues();
    await closeStore();
  };
  let app: FastifyInstance | undefined;
  let apiApp: FastifyInstance | undefined;
  try {
    app = await buildPartnerApp({
      ...services,
      serverFactory: serverFactoryFor(config.server, config.partners, log),
    });
    apiApp = await buildApiApp({ ...services, serverFactory: serverFactoryFor(apiListener(config), []) });
  } catch (error) {
    await Promise.all([app?.close(), apiApp?.close()]);
    await background();
    throw error;
  }
  const apps = { app, apiApp };
  let closing: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  const stopAccepting = () => {
    stopping ??= Promise.all([apps.app.close(), apps.apiApp.close()]).then(() => undefined);
    return stopping;
  };
  return {
    config,
    ...apps,
    store,
    sync,
    services,
    readModelLoaded: lookup.loaded,
    snapshotBeforeClose: () => lookup.snapshotBeforeClose(),
    stopAccepting,
    close() {
      closing ??= (async () => {
        await Promise.all([stopAccepting(), sync.close(), services.summaries.close()]);
        // After the listeners: no request can publish any more; the worker finishes its batch (docs/threats.md 65).
        await background();
      })();
      return closing;
    },
  };
}
