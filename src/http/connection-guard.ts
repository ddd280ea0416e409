/**
 * Connections that hold a slot without asking anything (docs/threats.md 76). Node's headersTimeout only runs once a
 * request has begun, so a connection that never sends a byte, stops halfway through a request head, or never
 * finishes its TLS handshake would stay open for ever; and nothing bounds how many one client opens.
 *
 * One interval per listener looks at every open connection: one that has no request in progress and has not
 * completed a request head within the header timeout of opening (or within the keep-alive timeout of its last
 * response) is closed. Where a request was owed (a new connection, or a head begun after a response) it is
 * answered first as node answers a slow head: the listener's clientError handler, a 408 problem document. A
 * keep-alive connection that stays quiet after its response, or a TLS handshake that does not finish, is just
 * closed. A new connection over the per-address cap is closed at once; the listener-wide cap is node's own
 * `maxConnections`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server, Socket } from 'node:net';

export interface ConnectionLimits {
  headersTimeoutMs: number;
  /** How long a connection may stay idle after its last response before it is closed. */
  idleAfterResponseMs: number;
  maxConnectionsPerAddress: number;
  maxConnections: number;
}

interface Tracked {
  /** The socket the HTTP layer reads: the TCP socket, or its TLS socket once the handshake is done. */
  socket: Socket;
  address: string;
  /** When to close it if no request is in progress by then. */
  deadline: number;
  inFlight: number;
  /** Whether `socket` is the one HTTP reads (false while a TLS handshake is under way). */
  http: boolean;
  /** Responses finished on it, and socket.bytesRead when the last one did. */
  served: number;
  readWhenIdle: number;
}

/** Keeps `server`'s connections within `limits`; `tls`: connections are handed over after a handshake. */
export function guardConnections(server: Server, limits: ConnectionLimits, tls: boolean): void {
  server.maxConnections = limits.maxConnections;
  const perAddress = new Map<string, number>();
  const open = new Set<Tracked>();
  const bySocket = new WeakMap<Socket, Tracked>();
  /** TCP sockets by remote endpoint until their TLS socket appears (same address and port). */
  const handshaking = new Map<string, Tracked>();

  server.on('connection', (socket: Socket) => {
    const endpoint = `${socket.remoteAddress}|${socket.remotePort}`;
    const address = clientKey(socket.remoteAddress);
    const count = perAddress.get(address) ?? 0;
    if (socket.remoteAddress === undefined || count >= limits.maxConnectionsPerAddress) {
      socket.destroy();
      return;
    }
    perAddress.set(address, count + 1);
    const tracked: Tracked = {
      socket,
      address,
      deadline: Date.now() + limits.headersTimeoutMs,
      inFlight: 0,
      http: !tls,
      served: 0,
      readWhenIdle: 0,
    };
    open.add(tracked);
    bySocket.set(socket, tracked);
    if (tls) handshaking.set(endpoint, tracked);
    socket.once('close', () => {
      open.delete(tracked);
      if (tls && handshaking.get(endpoint) === tracked) handshaking.delete(endpoint);
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    });
  });

  if (tls) {
    server.on('secureConnection', (socket: Socket) => {
      const endpoint = `${socket.remoteAddress}|${socket.remotePort}`;
      const tracked = handshaking.get(endpoint);
      if (tracked === undefined) return;
      handshaking.delete(endpoint);
      tracked.socket = socket;
      tracked.http = true;
      bySocket.set(socket, tracked);
    });
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const tracked = bySocket.get(req.socket);
    if (tracked === undefined || res.closed) return;
    tracked.inFlight += 1;
    res.once('close', () => {
      tracked.inFlight -= 1;
      tracked.served += 1;
      if (tracked.inFlight > 0) return;
      tracked.deadline = Date.now() + limits.idleAfterResponseMs;
      tracked.readWhenIdle = tracked.socket.bytesRead;
    });
  });

  const expire = ({ socket, http, served, readWhenIdle }: Tracked) => {
    if (socket.destroyed) return;
    const owed = served === 0 || socket.bytesRead > readWhenIdle;
    if (http && owed && server.listenerCount('clientError') > 0) {
      server.emit('clientError', requestTimeout(), socket);
    }
    if (!socket.destroyed) socket.destroy();
  };

  const everyMs = Math.max(
    50,
    Math.min(1_000, Math.floor(Math.min(limits.headersTimeoutMs, limits.idleAfterResponseMs) / 4)),
  );
  // From the listen on: a server that never listens (its port taken) leaves no timer behind.
  let timer: NodeJS.Timeout | undefined;
  server.once('listening', () => {
    timer = setInterval(() => {
      const now = Date.now();
      for (const tracked of open) {
        if (tracked.inFlight === 0 && now >= tracked.deadline) expire(tracked);
      }
    }, everyMs);
    timer.unref();
  });
  server.once('close', () => clearInterval(timer));
}

function requestTimeout(): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error('the request head did not arrive in time');
  error.code = 'ERR_HTTP_REQUEST_TIMEOUT';
  return error;
}

/**
 * The client a connection counts against: its IPv4 address (also when it arrives IPv4-mapped), or the /64 of an
 * IPv6 address, since one IPv6 client usually holds a whole /64 and could otherwise step around the cap.
 */
export function clientKey(address: string | undefined): string {
  if (address === undefined) return '';
  const bare = address.split('%')[0]!.toLowerCase();
  if (bare.startsWith('::ffff:') && bare.includes('.')) return bare.slice(7);
  if (!bare.includes(':')) return bare;
  const [head = '', tail] = bare.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g || '0', 16).toString(16))
    .join(':')}::/64`;
}
