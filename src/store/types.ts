/** The storage port: PostgreSQL or the embedded PostgreSQL-compatible store, behind one small interface. */

export type Row = Record<string, unknown>;

export interface Sql {
  /** Runs one statement with $1.. parameters and returns its rows. */
  query<R = Row>(text: string, params?: readonly unknown[]): Promise<R[]>;
  /** Runs several statements separated by semicolons, without parameters (migrations). */
  exec(script: string): Promise<void>;
}

export interface TransactionOptions {
  signal?: AbortSignal;
}

export interface Store extends Sql {
  readonly kind: 'postgres' | 'embedded';
  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws. With `signal`, an
   * abort stops it: the statement in progress is cancelled (PostgreSQL) or the next one is not run, the
   * transaction is rolled back, and `SHUTTING_DOWN` is thrown. For background runs a stop must not wait for.
   */
  transaction<T>(work: (tx: Sql) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** True when the store answers a trivial query. */
  ping(): Promise<boolean>;
  /** The connection pool and the statements that failed since the start, for metrics; PostgreSQL only. */
  stats?(): { inUse: number; idle: number; waiting: number; errors: number };
  close(): Promise<void>;
}
