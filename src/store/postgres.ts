import pg from 'pg';
import { GatewayError } from '../errors.ts';
import { requestCancel } from './cancel.ts';
import { createStatementNamer } from './prepared.ts';
import { rolledBack } from './rolled-back.ts';
import { stoppedRun, throwIfStopped, wasStopped } from './stoppable.ts';
import type { Sql, Store } from './types.ts';

// Errors that mean "the database is not reachable right now" rather than "this statement is wrong": the
// request is answered 503 with Retry-After and nothing is acknowledged (docs/threats.md 57).
const UNAVAILABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const UNAVAILABLE_SQLSTATE_CLASSES = ['08', '57', '53'];

export function isUnavailable(error: unknown): boolean {
  if (error instanceof GatewayError) return error.code === 'STORE_UNAVAILABLE';
  const e = error as { code?: unknown; message?: unknown };
  if (typeof e.code === 'string') {
    if (UNAVAILABLE_ERRNOS.has(e.code)) return true;
    if (e.code.length === 5 && UNAVAILABLE_SQLSTATE_CLASSES.some((c) => (e.code as string).startsWith(c)))
      return true;
  }
  const message = typeof e.message === 'string' ? e.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(
    message,
  );
}

// SQLSTATEs of a server that answers but will not let the gateway in: waiting would not mend them.
const REFUSED_SQLSTATES: Readonly<Record<string, string>> = {
  '28000': 'role or authorisation refused',
  '28P01': 'wrong password',
  '3D000': 'no such database',
  '42501': 'permission denied',
};

/** Where a connection string points, never its password: "db.example:5432, database aeo, user mra". */
export function describeDatabase(connectionString: string): string {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return 'the configured database';
  }
  const host = url.searchParams.get('host') ?? (url.hostname === '' ? 'localhost' : url.hostname);
  const port = url.port === '' ? '5432' : url.port;
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || decodeURIComponent(url.username);
  const user = decodeURIComponent(url.username) || '(default user)';
  return `${host.startsWith('/') ? host : `${host}:${port}`}, database ${database || '(default)'}, user ${user}`;
}

/** The cause of a failure to reach the server, in its own words: ECONNREFUSED, ETIMEDOUT, a timeout. */
export function unreachableCause(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown; errors?: unknown; cause?: unknown };
  // STORE_UNAVAILABLE keeps what the driver said as its cause.
  if (error instanceof GatewayError && e.cause !== undefined) return unreachableCause(e.cause);
  if (typeof e.code === 'string' && UNAVAILABLE_ERRNOS.has(e.code)) return e.code;
  // Several addresses tried (localhost: ::1 and 127.0.0.1): node reports them in an AggregateError.
  if (Array.isArray(e.errors) && e.errors.length > 0) return unreachableCause(e.errors[0]);
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : String(error);
  return typeof e.code === 'string' ? `${e.code} ${message}` : message;
}

/**
 * A server that answers but will not let the gateway in at start (a missing database or role, a wrong
 * password), as STORE_REFUSED naming the server, database and user and the server's reason; undefined for any
 * other error. Only for the start: a request's problem document never names the database.
 */
export function refusedAtStart(error: unknown, connectionString: string): GatewayError | undefined {
  const code = (error as { code?: unknown }).code;
  const refused = typeof code === 'string' ? REFUSED_SQLSTATES[code] : undefined;
  if (refused === undefined) return undefined;
  const target = describeDatabase(connectionString);
  return new GatewayError(
    'STORE_REFUSED',
    `the database server refused ${target}: ${refused} (${(error as Error).message})`,
    { cause: error },
  );
}

/**
 * Every connection of the pool in use for longer than the pool waits for one: the database is up and busy.
 * Nothing was done for the request, which may be sent again at once (pg-pool's own message).
 */
export function isPoolExhausted(error: unknown): boolean {
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' && message.startsWith('timeout exceeded when trying to connect');
}

// Answered to clients as a problem document: names no server, user or cause (those go to the log at start).
/** The stop's own refusal, or a statement cancelled (57014 query_canceled: the stop's CancelRequest). */
function isCancel(error: unknown): boolean {
  if (wasStopped(error)) return true;
  // Statements run through `run`, which reports a cancel as STORE_UNAVAILABLE (class 57) with it as the cause.
  const pgError = error instanceof GatewayError ? error.cause : error;
  return (pgError as { code?: unknown } | null)?.code === '57014';
}

function translate(error: unknown): unknown {
  if (isPoolExhausted(error)) {
    return new GatewayError('STORE_BUSY', 'the database is busy; send the request again', {
      retryAfterSeconds: 1,
      cause: error,
    });
  }
  if (isUnavailable(error) && !(error instanceof GatewayError)) {
    return new GatewayError('STORE_UNAVAILABLE', 'the database is not reachable', {
      retryAfterSeconds: 5,
      cause: error,
    });
  }
  return error;
}

export interface PostgresOptions {
  connectionString: string;
  max?: number;
  /** Applied to every statement so no request waits without bound. */
  statementTimeoutMs?: number;
  /** How long a request waits for a free connection of the pool before STORE_BUSY (default 5 s). */
  connectTimeoutMs?: number;
}

export function openPostgres(options: PostgresOptions): Store {
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    application_name: 'mra-gateway',
    // A transaction's statements that do not wait on each other's rows go out together, each with its own Sync
    // (pg's pipeline mode): BEGIN with the first statement, and the writes a flow sends with Promise.all.
    // PostgreSQL runs them in the order sent; a failure aborts the transaction, so those after it fail too.
    pipeline: true,
  });
  // An idle client that loses its connection emits here; without a listener the process would crash.
  pool.on('error', () => {});

  let errors = 0;
  const nameOf = createStatementNamer();
  const run = async <R>(
    client: pg.Pool | pg.PoolClient,
    text: string,
    params: readonly unknown[] | undefined,
    script = false,
  ) => {
    try {
      // Statements with parameters are the gateway's own, run again and again; one without (BEGIN, a probe) is
      // cheap to parse and runs unnamed, as a script must.
      const name = script || params === undefined ? undefined : nameOf(text);
      const values = (params ?? []) as unknown[];
      const result = await (name === undefined
        ? client.query(text, params as unknown[] | undefined)
        : client.query({ name, text, values }));
      return result.rows as R[];
    } catch (error) {
      // A statement refused because one before it failed in the same transaction (25P02: those sent with it,
      // pipelined) is that failure's consequence, already counted.
      if ((error as { code?: unknown }).code !== '25P02') errors += 1;
      throw translate(error);
    }
  };

  return {
    kind: 'postgres',
    query: (text, params) => run(pool, text, params),
    async transaction(work, options) {
      const signal = options?.signal;
      throwIfStopped(signal);
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw translate(error);
      }
      // A checked-out client has no listener of the pool's: a server that goes away between two statements
      // would otherwise be an uncaught 'error' event. The statement in flight fails on its own.
      const onError = () => {};
      client.on('error', onError);
      // BEGIN is not waited for: it goes out with the work's first statement, one round trip less a transaction.
      // Its answer is still awaited by every statement, and before COMMIT. A BEGIN that failed would leave the
      // statements behind it outside any transaction; it can fail only with its connection (and then so do they)
      // or by a cancel, which is therefore sent only once BEGIN has been answered (onAbort below).
      const begun = run(client, 'BEGIN', undefined);
      begun.catch(() => {});
      // Once the work has ended, the transaction takes no statement more: one sent later (by a branch of the
      // work still running when another failed) would run behind the ROLLBACK, outside any transaction, or on
      // the connection's next user.
      let ended = false;
      const accept = () => {
        if (ended)
          throw new GatewayError('INTERNAL', "a statement was sent after its transaction's work ended");
        throwIfStopped(signal);
      };
      const tx: Sql = {
        query: async <R>(text: string, params?: readonly unknown[]) => {
          accept();
          const rows = run<R>(client, text, params);
          await Promise.all([begun, rows]);
          return rows;
        },
        exec: async (script) => {
          accept();
          await Promise.all([begun, run(client, script, undefined, true)]);
        },
      };
      let broken = false;
      // A stop cancels the statement in progress with PostgreSQL's CancelRequest, on a connection of its own
      // (cancel.ts): the session's key names this connection's backend alone, and no connection of the pool is
      // waited for. The cancelled connection is then closed, never handed out again: a cancel that arrives late
      // would otherwise reach the next user's statement.
      let cancelled = false;
      const onAbort = () => {
        cancelled = true;
        void begun.then(
          () => requestCancel(client, connectTimeoutMs),
          () => requestCancel(client, connectTimeoutMs),
        );
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const result = await work(tx).finally(() => {
          ended = true;
        });
        await begun;
        // A cancel fails COMMIT only before the commit is recorded (in a deferred trigger or constraint check);
        // after it, PostgreSQL holds a cancel back (a wait for a synchronous standby ends with a warning). So a
        // COMMIT that fails with 57014 committed nothing, and one that succeeds is reported as committed.
        throwIfStopped(signal);
        const commit = await client.query('COMMIT').catch((error: unknown) => {
          errors += 1;
          throw translate(error);
        });
        if (commit.command === 'ROLLBACK') throw rolledBack();
        return result;
      } catch (error) {
        broken = isUnavailable(error);
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        // Only what the stop caused is a stop: its cancel (57014) or its refusal of the next statement. Any other
        // failure (a constraint, a lost connection during COMMIT, whose outcome is unknown) is reported as it is.
        if (signal?.aborted === true && isCancel(error)) throw stoppedRun(error);
        throw translate(error);
      } finally {
        signal?.removeEventListener('abort', onAbort);
        if (cancelled) broken = true;
        client.off('error', onError);
        client.release(broken);
      }
    },
    async exec(script) {
      await run(pool, script, undefined, true);
    },
    async ping() {
      try {
        await run(pool, 'SELECT 1', undefined);
        return true;
      } catch {
        return false;
      }
    },
    stats: () => ({
      inUse: pool.totalCount - pool.idleCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
      errors,
    }),
    close: () => pool.end(),
  };
}
