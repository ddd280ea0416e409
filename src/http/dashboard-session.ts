/**
 * Sessions of the dashboard. A browser cannot send the API's bearer token when it navigates, so the token is
 * given once, to the sign-in form, and the gateway answers with a session cookie: a random id that means
 * nothing outside this process, held here with its client and expiry. Only the id's SHA-256 is kept, so a
 * memory dump holds no usable cookie. A restart ends every session.
 */
import { hash, randomBytes } from 'node:crypto';
import type { ApiClient } from '../config/types.ts';

export const SESSION_COOKIE = 'mra_dashboard';
/** A session lasts this long from sign-in, however active. */
export const SESSION_TTL_MS = 8 * 3_600_000;
/** Bounds the memory that sign-ins can take; the oldest session goes first. */
export const MAX_SESSIONS = 1_000;

const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

interface Session {
  client: ApiClient;
  expiresAt: number;
}

export class DashboardSessions {
  readonly #sessions = new Map<string, Session>();
  readonly #clock: () => Date;

  constructor(clock: () => Date) {
    this.#clock = clock;
  }

  /** Opens a session for `client`; returns the id for the cookie. */
  open(client: ApiClient): string {
    const now = this.#clock().getTime();
    this.#sweep(now);
    while (this.#sessions.size >= MAX_SESSIONS) {
      const oldest = this.#sessions.keys().next();
      if (oldest.done === true) break;
      this.#sessions.delete(oldest.value);
    }
    const id = randomBytes(32).toString('base64url');
    this.#sessions.set(keyOf(id), { client, expiresAt: now + SESSION_TTL_MS });
    return id;
  }

  /** The client of a live session, or undefined for an id that is malformed, unknown or expired. */
  find(id: string | undefined): ApiClient | undefined {
    if (id === undefined || !SESSION_ID.test(id)) return undefined;
    const key = keyOf(id);
    const session = this.#sessions.get(key);
    if (session === undefined) return undefined;
    if (session.expiresAt <= this.#clock().getTime()) {
      this.#sessions.delete(key);
      return undefined;
    }
    return session.client;
  }

  close(id: string | undefined): void {
    if (id !== undefined && SESSION_ID.test(id)) this.#sessions.delete(keyOf(id));
  }

  get size(): number {
    return this.#sessions.size;
  }

  #sweep(now: number): void {
    for (const [key, session] of this.#sessions) {
      if (session.expiresAt <= now) this.#sessions.delete(key);
    }
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
