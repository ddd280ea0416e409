/**
 * Sessions of the dashboard. A browser cannot send the API's bearer token when it navigates, so the token is
 * given once, to the sign-in form, and the gateway answers with a session cookie: a random id, held in the
 * store with its client and expiry, so that every process and replica on the database knows it (a browser
 * signed in on one is signed in on all). Only the id's SHA-256 is kept, so the table holds no usable cookie.
 * A session names its client by id; the client's scopes are the configuration's of the moment, so a client
 * removed from the configuration loses its sessions at once.
 */
import { hash, randomBytes } from 'node:crypto';
import type { ApiClient } from '../config/types.ts';
import type { Store } from '../store/types.ts';

export const SESSION_COOKIE = 'mra_dashboard';
/** A session lasts this long from sign-in, however active. */
export const SESSION_TTL_MS = 8 * 3_600_000;
/** Bounds the rows that sign-ins can add; the session closest to its end goes first. */
export const MAX_SESSIONS = 1_000;

const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

export class DashboardSessions {
  readonly #store: Store;
  readonly #clients: readonly ApiClient[];
  readonly #clock: () => Date;

  constructor(store: Store, clients: readonly ApiClient[], clock: () => Date) {
    this.#store = store;
    this.#clients = clients;
    this.#clock = clock;
  }

  /** Opens a session for `client`; returns the id for the cookie. Ended sessions are deleted here. */
  async open(client: ApiClient): Promise<string> {
    const now = this.#clock();
    const id = randomBytes(32).toString('base64url');
    await this.#store.transaction(async (tx) => {
      await tx.query('DELETE FROM dashboard_session WHERE expires_at <= $1', [now]);
      await tx.query(
        `DELETE FROM dashboard_session WHERE id_sha256 IN
           (SELECT id_sha256 FROM dashboard_session ORDER BY expires_at DESC, id_sha256 OFFSET $1)`,
        [MAX_SESSIONS - 1],
      );
      await tx.query(
        'INSERT INTO dashboard_session (id_sha256, client_id, scopes, expires_at) VALUES ($1, $2, $3, $4)',
        [keyOf(id), client.id, [...client.scopes], new Date(now.getTime() + SESSION_TTL_MS)],
      );
    });
    return id;
  }

  /** The client of a live session, or undefined for an id that is malformed, unknown or expired. */
  async find(id: string | undefined): Promise<ApiClient | undefined> {
    if (id === undefined || !SESSION_ID.test(id)) return undefined;
    const rows = await this.#store.query<{ client_id: string }>(
      'SELECT client_id FROM dashboard_session WHERE id_sha256 = $1 AND expires_at > $2',
      [keyOf(id), this.#clock()],
    );
    const clientId = rows[0]?.client_id;
    return clientId === undefined ? undefined : this.#clients.find((c) => c.id === clientId);
  }

  async close(id: string | undefined): Promise<void> {
    if (id !== undefined && SESSION_ID.test(id))
      await this.#store.query('DELETE FROM dashboard_session WHERE id_sha256 = $1', [keyOf(id)]);
  }

  /** Sessions held, ended or not (for tests and metrics). */
  async size(): Promise<number> {
    const rows = await this.#store.query<{ n: number }>('SELECT count(*)::int AS n FROM dashboard_session');
    return rows[0]?.n ?? 0;
  }
}

function keyOf(id: string): string {
  return hash('sha256', id, 'base64url');
}

/** The value of one cookie in a Cookie header; undefined when absent or sent twice (which one would count?). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  let found: string | undefined;
  let count = 0;
  for (const part of header.split(';').slice(0, 64)) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    found = part.slice(eq + 1).trim();
    count++;
  }
  return count === 1 ? found : undefined;
}

/** Path=/ so that the queue view (/queues) is reached with the same session; only HTML routes read it. */
export function sessionCookie(id: string, secure: boolean): string {
  const maxAge = Math.floor(SESSION_TTL_MS / 1000);
  return `${SESSION_COOKIE}=${id}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export function clearedCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}
