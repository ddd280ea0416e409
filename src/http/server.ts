/**
 * The node server under the app: TLS and mutual TLS, timeouts against slow clients (docs/threats.md 5), and bounds on
 * idle connections and on connections per client (docs/threats.md 76, connection-guard.ts). Every listener is made
 * here: the partner listener, the internal API listener and the API's holding listener.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { FastifyServerFactory } from 'fastify';
import type { GatewayConfig } from '../config/types.ts';
import type { Partner } from '../mra/types.ts';
import { guardConnections } from './connection-guard.ts';

/** What a listener is made from; the partner listener's ServerSettings are one. */
export interface ListenerSettings {
  tls: { certificatePem: string; keyPem: string } | undefined;
  mtls: boolean;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnectionsPerAddress: number;
  maxConnections: number;
}

const KEEP_ALIVE_MS = 5_000;
/**
 * Node keeps an idle keep-alive connection this much longer than the timeout it announces, so that a client
 * reusing it just before the announced end does not meet a closed socket; the guard keeps the same grace.
 */
const KEEP_ALIVE_GRACE_MS = 1_000;

/** The internal API listener: its own TLS, caps and request timeout; the partner listener's header timeout. */
export function apiListener(config: GatewayConfig): ListenerSettings {
  return {
    tls: config.api.tls,
    mtls: false,
    headersTimeoutMs: config.server.headersTimeoutMs,
    requestTimeoutMs: config.api.requestTimeoutMs,
    maxConnectionsPerAddress: config.api.maxConnectionsPerAddress,
    maxConnections: config.api.maxConnections,
  };
}

export function serverFactoryFor(
  settings: ListenerSettings,
  partners: readonly Partner[],
): FastifyServerFactory {
  const timeouts = {
    headersTimeout: settings.headersTimeoutMs,
    requestTimeout: settings.requestTimeoutMs,
    // How often node looks for connections past those timeouts; its 30 s default would let a slow sender linger.
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(settings.headersTimeoutMs / 2))),
    keepAliveTimeout: KEEP_ALIVE_MS,
  };
  const limits = {
    headersTimeoutMs: settings.headersTimeoutMs,
    idleAfterResponseMs: KEEP_ALIVE_MS + KEEP_ALIVE_GRACE_MS,
    maxConnectionsPerAddress: settings.maxConnectionsPerAddress,
    maxConnections: settings.maxConnections,
  };
  return (handler) => {
    if (settings.tls === undefined) {
      const server = createHttpServer(timeouts, handler);
      guardConnections(server, limits, false);
      return server;
    }
    const server = createHttpsServer(
      {
        ...timeouts,
        // A handshake is part of getting a request head in: the same bound (the guard enforces it too).
        handshakeTimeout: settings.headersTimeoutMs,
        key: settings.tls.keyPem,
        cert: settings.tls.certificatePem,
        minVersion: 'TLSv1.2',
        // With mTLS the handshake itself refuses a client without a certificate from a partner's anchors.
        requestCert: settings.mtls,
        rejectUnauthorized: settings.mtls,
        ...(settings.mtls
          ? {
              ca: partners.flatMap((p) =>
                [...p.trust.anchors, ...p.intermediates].map((c) => c.x509.toString()),
              ),
            }
          : {}),
      },
      handler,
    );
    guardConnections(server, limits, true);
    return server;
  };
}
