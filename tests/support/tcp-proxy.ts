/**
 * A TCP proxy on loopback for the fault suite (docs/threats.md section G): it stands between two gateways, or
 * between a gateway and a border receiver, and misbehaves on cue. The mode is read on every chunk, so a test
 * switches it while connections are open:
 * - `pass`: bytes flow both ways untouched;
 * - `stall`: connections are accepted and held, nothing is forwarded either way (a peer that never answers);
 * - `drop`: new connections are closed at once and open ones are destroyed when the mode is set;
 * - `drop-after`: the connection is destroyed once `bytes` bytes have gone in `direction` (`down` = from the
 *   target back to the client: with 0, the target got the whole request and the client never gets the answer).
 * Every connection is counted and every socket is destroyed on close.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode =
  | { kind: 'pass' }
  | { kind: 'stall' }
  | { kind: 'drop' }
  | { kind: 'drop-after'; bytes: number; direction: 'up' | 'down' };

export interface ProxyStats {
  connections: number;
  /** Connections the proxy cut (drop, drop-after). */
  cut: number;
  bytesUp: number;
  bytesDown: number;
}

export interface TcpProxy {
  port: number;
  url(path?: string): string;
  stats: ProxyStats;
  mode(next: ProxyMode): void;
  current(): ProxyMode;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  up: number;
  down: number;
}

/** Listens on `port` (0: any) and forwards to 127.0.0.1:`target()` (read per connection). */
export async function startTcpProxy(
  target: () => number,
  options: { port?: number; mode?: ProxyMode } = {},
): Promise<TcpProxy> {
  let mode: ProxyMode = options.mode ?? { kind: 'pass' };
  const pairs = new Set<Pair>();
  const stats: ProxyStats = { connections: 0, cut: 0, bytesUp: 0, bytesDown: 0 };

  /** Destroys both sides; counted when the proxy's mode did it, not when a peer went away. */
  const cut = (pair: Pair, counted = true) => {
    if (pair.client.destroyed && pair.upstream.destroyed) return;
    if (counted) stats.cut += 1;
    pair.client.destroy();
    pair.upstream.destroy();
  };

  const relay = (pair: Pair, from: Socket, to: Socket, direction: 'up' | 'down') => {
    from.on('data', (chunk: Buffer) => {
      const m = mode;
      if (m.kind === 'stall') return;
      if (m.kind === 'drop') return cut(pair);
      let data = chunk;
      if (m.kind === 'drop-after' && m.direction === direction) {
        const sent = direction === 'up' ? pair.up : pair.down;
        const room = Math.max(0, m.bytes - sent);
        data = chunk.subarray(0, room);
        if (data.length > 0) to.write(data);
        if (direction === 'up') pair.up += data.length;
        else pair.down += data.length;
        if (data.length < chunk.length || sent + data.length >= m.bytes) {
          // The target has everything up to the limit; the rest is never delivered.
          to.once('drain', () => cut(pair));
          if (to.writableLength === 0) cut(pair);
        }
        return;
      }
      if (direction === 'up') {
        pair.up += data.length;
        stats.bytesUp += data.length;
      } else {
        pair.down += data.length;
        stats.bytesDown += data.length;
      }
      to.write(data);
    });
    from.on('end', () => to.end());
    from.on('error', () => cut(pair, false));
    from.on('close', () => {
      pairs.delete(pair);
      to.destroy();
    });
  };

  const server: Server = createServer((client) => {
    stats.connections += 1;
    if (mode.kind === 'drop') {
      stats.cut += 1;
      client.destroy();
      return;
    }
    const upstream = connect({ host: '127.0.0.1', port: target() });
    const pair: Pair = { client, upstream, up: 0, down: 0 };
    pairs.add(pair);
    relay(pair, client, upstream, 'up');
    relay(pair, upstream, client, 'down');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    url: (path = '') => `http://127.0.0.1:${port}${path}`,
    stats,
    mode(next) {
      mode = next;
      if (next.kind === 'drop') for (const p of [...pairs]) cut(p);
    },
    current: () => mode,
    async close() {
      for (const p of [...pairs]) {
        p.client.destroy();
        p.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
