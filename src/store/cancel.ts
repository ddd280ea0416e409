/**
 * Cancelling the statement a pooled connection is running, the way PostgreSQL defines it (protocol "Canceling
 * Requests in Progress", libpq's PQcancel): a CancelRequest sent on a new connection, carrying the backend
 * process id and secret key the server gave that connection when it started. The key names exactly one session,
 * so the request cannot reach another client's backend (behind a transaction-mode pooler such as PgBouncer the
 * pooler holds the key and passes the request on to the server running that session's statement), and it needs
 * no connection of the pool, so a full pool does not hold it up. pg's Connection writes the request; it is
 * reached on the same host, port, unix socket and TLS settings as the connection it cancels.
 */
import type { Duplex } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';

/** What a connected pg Client holds of its server and session (set by pg; not declared by @types/pg). */
interface ConnectedSession {
  readonly host: string;
  readonly port: number;
  readonly ssl: boolean | ConnectionOptions;
  readonly sslNegotiation?: 'postgres' | 'direct';
  /** From the server's BackendKeyData at the start of the session; null when it sent none. */
  readonly processID: number | null;
  readonly secretKey: number | null;
}

/** pg's Connection, as far as a cancel uses it. */
interface RequestConnection {
  readonly stream: Duplex;
  connect(portOrPath: number | string, host?: string): void;
  requestSsl(): void;
  cancel(processID: number, secretKey: number): void;
  on(event: 'connect' | 'sslconnect' | 'end', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

const RequestConnection = pg.Connection as unknown as new (config: {
  ssl: boolean | ConnectionOptions;
  sslNegotiation: 'postgres' | 'direct';
}) => RequestConnection;

/**
 * Asks the server to cancel what `client`'s session is running. Resolves once the request's connection is
 * closed (by the server once it has read the request, on a failure, or after `timeoutMs`), never rejects: true
 * when the request was written, false when it could not be (no key from the server, the server not reached).
 * A cancel is only a request: the statement may end before it arrives, and it may arrive during a later one,
 * so the client must not be handed out again.
 */
export function requestCancel(client: pg.ClientBase, timeoutMs: number): Promise<boolean> {
  const session = client as unknown as ConnectedSession;
  const { processID, secretKey } = session;
  if (processID === null || secretKey === null) return Promise.resolve(false);
  const sslNegotiation = session.sslNegotiation ?? 'postgres';
  const tls = Boolean(session.ssl);
  const con = new RequestConnection({ ssl: session.ssl, sslNegotiation });
  const plain = con.stream;
  let sent = false;
  return new Promise<boolean>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      if (timer === undefined) return;
      clearTimeout(timer);
      timer = undefined;
      // The TLS stream, once there is one, and the socket under it.
      con.stream.destroy();
      plain.destroy();
      resolve(sent);
    };
    timer = setTimeout(finish, timeoutMs);
    timer.unref();
    const send = () => {
      con.cancel(processID, secretKey);
      sent = true;
      // The server answers nothing: it closes the connection once it has read the request.
      con.stream.once('close', finish);
    };
    con.on('error', finish);
    con.on('end', finish);
    con.on('connect', () => {
      if (!tls) send();
      // Direct TLS negotiation starts the handshake on its own; otherwise the server is asked for TLS first.
      else if (sslNegotiation !== 'direct') con.requestSsl();
    });
    con.on('sslconnect', send);
    if (session.host.startsWith('/')) con.connect(`${session.host}/.s.PGSQL.${session.port}`);
    else con.connect(session.port, session.host);
  });
}
