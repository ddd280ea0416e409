/**
 * One address in front of several gateway replicas, as a load balancer gives a deployment of replicas:
 * a loopback TCP balancer that hands each new connection to the next target in turn. A target that refuses the
 * connection (its process is gone) is skipped for the next one, as a balancer's health check would; a
 * connection already open to a replica that dies is cut, and the client sees it.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface Balancer {
  port: number;
  url(path?: string): string;
  /** Connections handed to each target port. */
  handed: Map<number, number>;
  /** Connections no target took. */
  refused: number;
  /** Connections open now to each target port. */
  open(target: number): number;
  close(): Promise<void>;
}

export async function startBalancer(targets: readonly number[], port = 0): Promise<Balancer> {
  let next = 0;
  const handed = new Map<number, number>(targets.map((t) => [t, 0]));
  const live = new Map<number, number>(targets.map((t) => [t, 0]));
  const open = new Set<Socket>();
  const state = { refused: 0 };

  function attach(client: Socket, tries: number): void {
    if (tries >= targets.length) {
      state.refused += 1;
      client.destroy();
      return;
    }
    const target = targets[next % targets.length]!;
    next += 1;
    const upstream = connect({ host: '127.0.0.1', port: target });
    open.add(upstream);
    let connected = false;
    upstream.on('error', () => {
      open.delete(upstream);
      if (!connected && !client.destroyed) return attach(client, tries + 1);
      client.destroy();
    });
    upstream.once('connect', () => {
      connected = true;
      handed.set(target, (handed.get(target) ?? 0) + 1);
      live.set(target, (live.get(target) ?? 0) + 1);
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('error', () => upstream.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => {
        live.set(target, (live.get(target) ?? 1) - 1);
        open.delete(upstream);
        client.destroy();
      });
      client.resume();
    });
  }

  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => {});
    attach(client, 0);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port: bound,
    url: (path = '') => `http://127.0.0.1:${bound}${path}`,
    handed,
    open: (target) => live.get(target) ?? 0,
    get refused() {
      return state.refused;
    },
    async close() {
      for (const s of [...open]) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
