/**
 * Watching a stopped transaction from the server's side (pg_stat_activity), so that a test stops it while the
 * server is seen doing a given thing, and checks afterwards what the server said and that the session is gone.
 */
import { GatewayError } from '../../src/errors.ts';
import type { Store } from '../../src/store/types.ts';
import { waitFor } from './delivery.ts';

/** The server's own error under the gateway's (SHUTTING_DOWN, STORE_UNAVAILABLE): its SQLSTATE and message. */
export function serverError(error: unknown): { code: string; message: string } | undefined {
  let e: unknown = error;
  for (let depth = 0; depth < 5 && e instanceof Error; depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (!(e instanceof GatewayError) && typeof code === 'string') return { code, message: e.message };
    e = e.cause;
  }
  return undefined;
}

/**
 * Waits until another session on `observer`'s database runs `query` and waits on `waitEvent` (pg_stat_activity),
 * and returns its backend's pid; undefined when `settled()` says the work ended before it was seen.
 */
export async function sessionWaiting(
  observer: Store,
  query: string,
  waitEvent: string,
  settled: () => boolean,
): Promise<number | undefined> {
  const seen = await waitFor(`a session running ${query} and waiting on ${waitEvent}`, async () => {
    if (settled()) return { pid: undefined };
    const [row] = await observer.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND query = $1 AND wait_event = $2`,
      [query, waitEvent],
    );
    return row === undefined ? undefined : { pid: row.pid };
  });
  return seen.pid;
}

/** Waits until the backend `pid` has ended: its connection was closed, not handed out again. */
export async function sessionGone(observer: Store, pid: number): Promise<void> {
  await waitFor(`backend ${pid} to end`, async () => {
    const rows = await observer.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
    return rows.length === 0 ? true : undefined;
  });
}

/** Settles `work` into its value or its error, and says meanwhile whether it has settled. */
export function outcomeOf<T>(work: Promise<T>): {
  settled(): boolean;
  outcome: Promise<{ value: T } | { error: unknown }>;
} {
  let done = false;
  const outcome = work.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  void outcome.then(() => {
    done = true;
  });
  return { settled: () => done, outcome };
}
