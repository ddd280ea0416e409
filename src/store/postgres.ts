import pg from 'pg';
import { GatewayError } from '../errors.ts';
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

function translate(error: unknown): unknown {
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
}

export function openPostgres(options: PostgresOptions): Store {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    application_name: 'mra-gateway',
  });
  // An idle client that loses its connection emits here; without a listener the process would crash.
  pool.on('error', () => {});

  const run = async <R>(client: pg.Pool | pg.PoolClient, text: string, params?: readonly unknown[]) => {
    try {
      const result = await client.query(text, params as unknown[] | undefined);
      return result.rows as R[];
    } catch (error) {
      throw translate(error);
    }
  };

  return {
    kind: 'postgres',
    query: (text, params) => run(pool, text, params),
    async transaction(work) {
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
      const tx: Sql = {
        query: (text, params) => run(client, text, params),
        exec: async (script) => {
          await run(client, script);
        },
      };
      let broken = false;
      try {
        await tx.query('BEGIN');
        const result = await work(tx);
        await tx.query('COMMIT');
        return result;
      } catch (error) {
        broken = isUnavailable(error);
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw translate(error);
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
    async exec(script) {
      await run(pool, script);
    },
    async ping() {
      try {
        await run(pool, 'SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    close: () => pool.end(),
  };
}
