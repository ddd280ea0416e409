/**
 * The gateway started: the store opened (waiting for PostgreSQL if need be), everything composed
 * (compose.ts), both apps listening, the partner sync and revocation-list timers running, and an orderly
 * shutdown.
 */
import type { Logger } from 'pino';
import { anchorBaseline } from './audit/baseline.ts';
import { type ComposedGateway, composeGateway } from './compose.ts';
import type { GatewayConfig } from './config/types.ts';
import { openHoldingListener } from './http/holding.ts';
import { buildMetricsApp } from './http/routes/metrics.ts';
import { listenFailure, listeningText } from './http/server.ts';
import { watchRevocationLists } from './inbound/revocation-watch.ts';
import { createLogger } from './log.ts';
import type { GatewayMetrics } from './metrics/metrics.ts';
import { startRetentionTimer } from './retention/retention.ts';
import { openStoreWaiting } from './store/open-waiting.ts';
import type { Store } from './store/types.ts';

export interface Gateway extends Omit<ComposedGateway, 'services' | 'snapshotBeforeClose' | 'stopAccepting'> {
  /** Base URL of the partner-facing listener, e.g. https://127.0.0.1:8443. */
  url: string;
  /** Base URL of the internal API listener, e.g. http://127.0.0.1:8080. */
  apiUrl: string;
  /** Base URL of the metrics listener of its own, when metrics.port is configured. */
  metricsUrl?: string;
  /** Monitoring summaries: pushes and pulls run on timers, and once by tests. */
  summaries: ComposedGateway['services']['summaries'];
}

export interface StartOptions {
  log?: Logger;
  /** An already opened store (tests share one); otherwise the configured store is opened and migrated. */
  store?: Store;
  clock?: () => Date;
  /** First delay between attempts to reach the database at start (default 500 ms, doubling to 5 s). */
  storeRetryMs?: number;
  /**
   * Whether to wait for the lookup read model before listening (default false: the listeners open at once and
   * readiness is 503 while it loads; `readModelLoaded` resolves when it is loaded).
   */
  waitForReadModel?: boolean;
  /**
   * Whether this process runs the timers a gateway needs once (partner sync, summaries, retention); false in
   * every process of a cluster but one (src/cluster). Default true.
   */
  onceTimers?: boolean;
  /** Where the gateway's metrics are counted; a registry of its own when absent. */
  metrics?: GatewayMetrics;
}

export async function startGateway(config: GatewayConfig, options: StartOptions = {}): Promise<Gateway> {
  const log = options.log ?? createLogger(config.logLevel, undefined, config.logPretty === true);
  // PostgreSQL may come up after the gateway: wait for it, alive and not ready on the API listener.
  const store =
    options.store ??
    (await openStoreWaiting(config.storage, {
      log,
      onWaiting: () => openHoldingListener(config, log),
      ...(options.storeRetryMs === undefined ? {} : { firstDelayMs: options.storeRetryMs }),
    }));
  const composed = await composeGateway(config, {
    log,
    store,
    ownsStore: options.store === undefined,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
  const { app, apiApp, sync } = composed;
  if (options.waitForReadModel === true) {
    try {
      await composed.readModelLoaded;
    } catch (error) {
      await composed.close();
      throw error;
    }
  }
  let url: string;
  let apiUrl: string;
  let metricsUrl: string | undefined;
  let metricsApp: Awaited<ReturnType<typeof buildMetricsApp>> | undefined;
  try {
    if (config.metrics) metricsApp = await buildMetricsApp(composed.services.metrics, log, config);
    url = await listen(app, config.server.host, config.server.port, config.server.tls !== undefined);
    apiUrl = await listen(apiApp, config.api.host, config.api.port, config.api.tls !== undefined);
    if (metricsApp !== undefined && config.metrics)
      metricsUrl = await listen(metricsApp, config.metrics.host, config.metrics.port, false);
  } catch (error) {
    await metricsApp?.close();
    // A port taken, a certificate unreadable: nothing started is left running behind the error.
    await composed.close();
    throw error;
  }
  log.info(
    { adminId: config.home.adminId, url, apiUrl, metricsUrl, store: store.kind, mtls: config.server.mtls },
    'gateway listening',
  );
  const once = options.onceTimers !== false;
  if (once) sync.start();
  // The monitoring summaries and the retention run read every operator: started while the lookup read model
  // loads, they would compete with it for PostgreSQL and the event loop, so they wait for it.
  let closed = false;
  let stopRetentionTimer: () => Promise<void> = async () => {};
  if (once) {
    composed.readModelLoaded.then(
      () => {
        if (closed) return;
        composed.services.summaries.start();
        stopRetentionTimer = startRetentionTimer(store, config.retention, log, options.clock);
      },
      () => {},
    );
  }
  const stopRetention = () => {
    closed = true;
    return stopRetentionTimer();
  };
  // Each process holds its own trust stores: every one watches the revocation lists.
  const stopRevocationWatch = watchRevocationLists(config.partners, log, { clock: options.clock });
  // Evidence from before the audit trail existed is anchored once, at the first start after the upgrade.
  const anchoring = anchorBaseline(store).then(
    (tables) =>
      tables > 0 ? log.info({ tables }, 'evidence from before the audit trail anchored') : undefined,
    (error: unknown) =>
      log.warn(
        { err: error },
        'could not anchor evidence from before the audit trail; tried again at the next start',
      ),
  );

  let closing: Promise<void> | undefined;
  return {
    config,
    app,
    apiApp,
    store,
    sync,
    summaries: composed.services.summaries,
    readModelLoaded: composed.readModelLoaded,
    url,
    apiUrl,
    ...(metricsUrl === undefined ? {} : { metricsUrl }),
    close() {
      closing ??= (async () => {
        stopRevocationWatch();
        // First, side by side: no new request is taken, and the read model's snapshot is written before the
        // stop waits for the runs in progress, so that a supervisor's kill after its grace does not cost it.
        await Promise.all([metricsApp?.close(), composed.stopAccepting(), composed.snapshotBeforeClose()]);
        await stopRetention();
        await anchoring;
        await composed.close();
      })();
      return closing;
    },
  };
}

async function listen(
  app: ComposedGateway['app'],
  host: string,
  port: number,
  tls: boolean,
): Promise<string> {
  try {
    await app.listen({ host, port, listenTextResolver: listeningText(tls) });
  } catch (error) {
    throw listenFailure(error, host, port);
  }
  const address = app.server.address();
  const actual = typeof address === 'object' && address !== null ? address.port : port;
  return `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${actual}`;
}
