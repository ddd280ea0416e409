/** Composition root: configuration → store → flows → HTTP, and an orderly shutdown. */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { GatewayConfig } from './config/types.ts';
import { buildApp } from './http/app.ts';
import { serverFactoryFor } from './http/server.ts';
import { createInboundService } from './inbound/receive.ts';
import { createLogger } from './log.ts';
import { openStore } from './store/open.ts';
import type { Store } from './store/types.ts';

export interface Gateway {
  config: GatewayConfig;
  app: FastifyInstance;
  store: Store;
  /** Base URL the gateway listens on, e.g. https://127.0.0.1:8443. */
  url: string;
  close(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
  /** An already opened store (tests share one); otherwise the configured store is opened and migrated. */
  store?: Store;
  clock?: () => Date;
}

export async function startGateway(config: GatewayConfig, options: StartOptions = {}): Promise<Gateway> {
  const log = options.log ?? createLogger(config.logLevel);
  const store = options.store ?? (await openStore(config.storage));
  const inbound = createInboundService({
    config,
    store,
    log,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const app = await buildApp({
    config,
    store,
    inbound,
    log,
    serverFactory: serverFactoryFor(config.server, config.partners),
  });
  await app.listen({ host: config.server.host, port: config.server.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.server.port;
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  const url = `${config.server.tls ? 'https' : 'http'}://${host}:${port}`;
  log.info(
    { adminId: config.home.adminId, url, store: store.kind, mtls: config.server.mtls },
    'gateway listening',
  );

  let closing: Promise<void> | undefined;
  return {
    config,
    app,
    store,
    url,
    close() {
      closing ??= (async () => {
        await app.close();
        if (options.store === undefined) await store.close();
      })();
      return closing;
    },
  };
}
