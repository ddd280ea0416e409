/**
 * The node server under the app: TLS and mutual TLS, timeouts against slow clients (docs/threats.md 5), and bounds on
 * idle connections and on connections per client (docs/threats.md 76, connection-guard.ts). Every listener is made
 * here: the partner listener, the internal API listener and the API's holding listener.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { FastifyServerFactory } from 'fastify';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.ts';
import { GatewayError } from '../errors.ts';
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
  log?: Logger,
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
        // With mTLS a client certificate is asked for and verified against the partners' anchors, but the
        // handshake completes without one (or with one that fails), so that health probes are answered. Every
        // other route is refused unless the peer identifier (peer.ts) finds a verified certificate of a partner:
        // it reads `socket.authorized`, OpenSSL's verdict, and then the gateway's own chain rules.
        requestCert: settings.mtls,
        rejectUnauthorized: false,
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
    // A failed handshake never reaches a route: said here, naming the partner the certificate claims to be.
    if (log !== undefined) {
      const bounded = boundedWarnings(log, HANDSHAKE_WARNINGS_PER_MINUTE);
      server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
        bounded(
          { address: socket.remoteAddress, partner: claimedPartner(socket, partners), err: error.message },
          'TLS handshake failed',
        );
      });
    }
    return server;
  };
}

const LISTEN_REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address in use',
  EACCES: 'permission denied (a port under 1024 needs privileges)',
  EADDRNOTAVAIL: 'no such address on this machine',
  ENOTFOUND: 'unknown host name',
  EAI_AGAIN: 'host name not resolvable now',
};

/** A listener that cannot open, as LISTEN_FAILED: "cannot listen on 127.0.0.1:8443: address in use". */
export function listenFailure(error: unknown, host: string, port: number): unknown {
  const code = (error as { code?: unknown }).code;
  // Socket errors only (EADDRINUSE, ENFILE, …), not node's own ERR_… codes.
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return error;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return new GatewayError('LISTEN_FAILED', `cannot listen on ${where}: ${LISTEN_REASONS[code] ?? code}`, {
    cause: error,
  });
}

/**
 * The line fastify logs once a listener is up ("Server listening at …"). With a server factory fastify cannot
 * know the server speaks TLS and would say http://; the scheme is the listener's own.
 */
export function listeningText(tls: boolean): (address: string) => string {
  return (address) => `Server listening at ${address.replace(/^https?:/, tls ? 'https:' : 'http:')}`;
}

/**
 * The partner whose anchors or issuing CAs name the issuer of the certificate a client presented, if any: a
 * claim for the log (names only, no signature checked), never an identification.
 */
export function claimedPartner(socket: TLSSocket, partners: readonly Partner[]): string | undefined {
  try {
    const leaf = socket.getPeerX509Certificate?.();
    if (leaf === undefined) return undefined;
    for (const p of partners) {
      if ([...p.trust.anchors, ...p.intermediates].some((ca) => leaf.checkIssued(ca.x509))) return p.adminId;
    }
  } catch {
    // No certificate, or one node cannot read: the address alone is logged.
  }
  return undefined;
}

/** A scan of the partner port must not drown the log: past this many a minute, failures are only counted, and the
 * count is logged with the first failure of a later minute. */
const HANDSHAKE_WARNINGS_PER_MINUTE = 60;

export function boundedWarnings(log: Logger, perMinute: number): (fields: object, message: string) => void {
  let windowStart = 0;
  let inWindow = 0;
  return (fields, message) => {
    const now = Date.now();
    if (now - windowStart >= 60_000) {
      if (inWindow > perMinute) log.warn({ suppressed: inWindow - perMinute }, `${message}: more not logged`);
      windowStart = now;
      inWindow = 0;
    }
    inWindow += 1;
    if (inWindow <= perMinute) log.warn(fields, message);
  };
}
