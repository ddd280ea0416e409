/**
 * The composition root: configuration → store → every service, built here once → HTTP listeners, and an
 * orderly shutdown.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { GatewayConfig } from './config/types.ts';
import { startDelivery } from './delivery/delivery.ts';
import { createDeliveryStatus } from './delivery/status.ts';
import { type AppDeps, buildApiApp, buildPartnerApp } from './http/app.ts';
import { openHoldingListener } from './http/holding.ts';
import { apiListener, serverFactoryFor } from './http/server.ts';
import { createPartnerSync, type PartnerSync } from './inbound/partner-sync.ts';
import { createInboundService } from './inbound/receive.ts';
import { watchRevocationLists } from './inbound/revocation-watch.ts';
import { createLogger } from './log.ts';
import { createFeedback } from './lookup/feedback.ts';
import { startLookup } from './lookup/service.ts';
import { notifyWithin, startNotifications } from './notifications/service.ts';
import { createSubscriptions } from './notifications/subscriptions.ts';
import { createSnapshots } from './partner-api/snapshot.ts';
import { createPublisher } from './publishing/publish.ts';
import { createQueueRuntime, workerCloseGraceMs } from './queue/runtime.ts';
import { createRegisterImporter } from './register-import/importer.ts';
import { openStoreWaiting } from './store/open-waiting.ts';
import type { Store } from './store/types.ts';

export interface Gateway {
  config: GatewayConfig;
  /** The partner-facing app: /mra/v1, mutual TLS in production. */
  app: FastifyInstance;
  /** The internal app of the home administration's own systems: /api/v1, bearer tokens. */
  apiApp: FastifyInstance;
  store: Store;
  /** Feed catch-up and reconciliation with each partner; run once by tests and the admin API. */
  sync: PartnerSync;
  /** Base URL of the partner-facing listener, e.g. https://127.0.0.1:8443. */
  url: string;
  /** Base URL of the internal API listener, e.g. http://127.0.0.1:8080. */
  apiUrl: string;
  close(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
  /** An already opened store (tests share one); otherwise the configured store is opened and migrated. */
  store?: Store;
  clock?: () => Date;
  /** First delay between attempts to reach the database at start (default 500 ms, doubling to 5 s). */
  storeRetryMs?: number;
}

export async function startGateway(config: GatewayConfig, options: StartOptions = {}): Promise<Gateway> {
  const log = options.log ?? createLogger(config.logLevel);
  // PostgreSQL may come up after the gateway: wait for it, alive and not ready on the API listener.
  const store =
    options.store ??
    (await openStoreWaiting(config.storage, {
      log,
      onWaiting: () => openHoldingListener(config, log),
      ...(options.storeRetryMs === undefined ? {} : { firstDelayMs: options.storeRetryMs }),
    }));
  const clock = options.clock ? { clock: options.clock } : {};
  // Every Redis connection of the job queues, shared by delivery and notifications, closed after both.
  const queues = createQueueRuntime(config.redis, log.child({ component: 'queue' }));
  const closeQueues = () => queues.close(workerCloseGraceMs(config));
  // Before any listener: a Redis that evicts keys stops the start here (docs/threats.md 55); one that is down
  // does not (docs/threats.md 53).
  const delivery = await startDelivery({ config, store, log, queues }).catch(async (error: unknown) => {
    await closeQueues();
    if (options.store === undefined) await store.close();
    throw error;
  });
  // The read model loads what is held now; no batch can be received before the listeners open below.
  const lookup = await startLookup({ config, store, log }).catch(async (error: unknown) => {
    await delivery.close();
    await closeQueues();
    if (options.store === undefined) await store.close();
    throw error;
  });
  const notifications = await startNotifications({ config, store, log, queues, ...clock }).catch(
    async (error: unknown) => {
      await Promise.all([delivery.close(), lookup.close()]);
      await closeQueues();
      if (options.store === undefined) await store.close();
      throw error;
    },
  );
  const inbound = createInboundService({
    config,
    store,
    log,
    ...clock,
    onCommitted: (change) => {
      lookup.committed(change);
      if (change.changes.length > 0) notifications.wake();
    },
    inTransaction: notifyWithin(config),
  });
  const publisher = createPublisher({ config, store, ...clock, onPublished: () => delivery.wake() });
  const sync = createPartnerSync({ config, store, inbound, log, ...clock });
  const now = options.clock ?? (() => new Date());
  const services: Omit<AppDeps, 'serverFactory'> = {
    config,
    store,
    log,
    clock: now,
    inbound,
    snapshots: createSnapshots({ store, home: config.home.adminId, clock: now }),
    publisher,
    importer: createRegisterImporter({ store, publisher }),
    deliveries: createDeliveryStatus(store, () => delivery.wake()),
    queueReady: () => delivery.ready(),
    lookup,
    feedback: createFeedback({ sql: store, partners: config.partners, clock: options.clock }),
    subscriptions: createSubscriptions({
      store,
      settings: config.notifications,
      clock: options.clock,
      onReplayed: () => notifications.wake(),
    }),
    sync,
  };

  const background = async () => {
    await Promise.all([delivery.close(), lookup.close(), notifications.close()]);
    await closeQueues();
    if (options.store === undefined) await store.close();
  };
  let app: FastifyInstance | undefined;
  let apiApp: FastifyInstance | undefined;
  let url: string;
  let apiUrl: string;
  try {
    app = await buildPartnerApp({
      ...services,
      serverFactory: serverFactoryFor(config.server, config.partners),
    });
    apiApp = await buildApiApp({ ...services, serverFactory: serverFactoryFor(apiListener(config), []) });
    url = await listen(app, config.server.host, config.server.port, config.server.tls !== undefined);
    apiUrl = await listen(apiApp, config.api.host, config.api.port, config.api.tls !== undefined);
  } catch (error) {
    // A port taken, a certificate unreadable: nothing started is left running behind the error.
    await Promise.all([app?.close(), apiApp?.close()]);
    await background();
    throw error;
  }
  log.info(
    { adminId: config.home.adminId, url, apiUrl, store: store.kind, mtls: config.server.mtls },
    'gateway listening',
  );
  sync.start();
  const stopRevocationWatch = watchRevocationLists(config.partners, log, { clock: options.clock });

  let closing: Promise<void> | undefined;
  return {
    config,
    app,
    apiApp,
    store,
    sync,
    url,
    apiUrl,
    close() {
      closing ??= (async () => {
        stopRevocationWatch();
        await Promise.all([app.close(), apiApp.close(), sync.close()]);
        // After the listeners: no request can publish any more; the worker finishes its batch (docs/threats.md 65).
        await background();
      })();
      return closing;
    },
  };
}

async function listen(app: FastifyInstance, host: string, port: number, tls: boolean): Promise<string> {
  await app.listen({ host, port });
  const address = app.server.address();
  const actual = typeof address === 'object' && address !== null ? address.port : port;
  return `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${actual}`;
}
