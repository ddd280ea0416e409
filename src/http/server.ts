/** The node server under the app: TLS and mutual TLS, and timeouts against slow clients (THREATS.md 5). */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { FastifyServerFactory } from 'fastify';
import type { Partner, ServerSettings } from '../config/types.ts';

export function serverFactoryFor(
  settings: ServerSettings,
  partners: readonly Partner[],
): FastifyServerFactory {
  const timeouts = {
    headersTimeout: settings.headersTimeoutMs,
    requestTimeout: settings.requestTimeoutMs,
    // How often node looks for connections past those timeouts; its 30 s default would let a slow sender linger.
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(settings.headersTimeoutMs / 2))),
    keepAliveTimeout: 5_000,
  };
  return (handler) => {
    if (settings.tls === undefined) return createHttpServer(timeouts, handler);
    return createHttpsServer(
      {
        ...timeouts,
        key: settings.tls.keyPem,
        cert: settings.tls.certificatePem,
        minVersion: 'TLSv1.2',
        // With mTLS the handshake itself refuses a client without a certificate from a partner's anchors.
        requestCert: settings.mtls,
        rejectUnauthorized: settings.mtls,
        ...(settings.mtls
          ? { ca: partners.flatMap((p) => p.trust.anchors.map((a) => a.x509.toString())) }
          : {}),
      },
      handler,
    );
  };
}
