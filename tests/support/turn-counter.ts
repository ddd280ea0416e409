/**
 * A TCP proxy on loopback that counts a conversation's turns: how many times a client speaks again on its
 * connection after the server has answered there. Everything the server sends is held back `delayMs` before it is passed on, so what a
 * client writes without waiting for an answer (statements pipelined behind each other) arrives as one turn,
 * and each statement a client waits for before sending the next is a turn of its own.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TurnCounter {
  port: number;
  /** Turns since the last reset. */
  turns(): number;
  reset(): void;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:`port` (0: any) and passes everything on to 127.0.0.1:`targetPort`. */
export async function startTurnCounter(targetPort: number, delayMs: number, port = 0): Promise<TurnCounter> {
  let turns = 0;
  // Connections by whether the server has been heard since the client last spoke on it: the client's next
  // chunk there is a new turn.
  const answered = new Map<Socket, boolean>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    // As PostgreSQL and its drivers do: no small write held back for the one before it to be acknowledged.
    const upstream = connect({ host: '127.0.0.1', port: targetPort, noDelay: true });
    client.setNoDelay(true);
    sockets.add(client).add(upstream);
    answered.set(client, true);
    client.on('data', (chunk: Buffer) => {
      if (answered.get(client) === true) turns += 1;
      answered.set(client, false);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      setTimeout(() => {
        answered.set(client, true);
        if (!client.destroyed) client.write(chunk);
      }, delayMs);
    });
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      from.on('error', () => to.destroy());
      from.on('close', () => {
        sockets.delete(from);
        answered.delete(client);
        setTimeout(() => to.destroy(), delayMs * 2);
      });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    turns: () => turns,
    reset() {
      turns = 0;
      for (const socket of answered.keys()) answered.set(socket, true);
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
