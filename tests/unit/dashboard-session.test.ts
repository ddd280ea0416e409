/**
 * Sessions of the dashboard (in the store): an id opens its client's session until it expires or is closed, a
 * malformed or unknown id opens nothing, only the id's hash is held, the number held is bounded, and the cookie is read only when sent once.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/config/types.ts';
import {
  clearedCookie,
  cookieValue,
  DashboardSessions,
  MAX_SESSIONS,
  SESSION_TTL_MS,
  sessionCookie,
} from '../../src/http/dashboard-session.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/types.ts';

const client: ApiClient = { id: 'monitoring', tokenSha256: '0'.repeat(64), scopes: new Set(['monitoring']) };

describe('DashboardSessions', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore({ kind: 'embedded', dataDir: 'memory://' });
    await migrate(store);
  });
  afterAll(async () => {
    await store?.close();
  });
  beforeEach(async () => {
    await store.query('DELETE FROM dashboard_session');
  });

  it('finds a session by its id until it expires', async () => {
    let now = Date.parse('2026-11-30T10:00:00Z');
    const sessions = new DashboardSessions(store, [client], () => new Date(now));
    const id = await sessions.open(client);
    now += SESSION_TTL_MS - 1;
    expect(await sessions.find(id)).toBe(client);
    now += 1;
    expect(await sessions.find(id)).toBeUndefined();
    // Deleted at the next sign-in.
    await sessions.open(client);
    expect(await sessions.size()).toBe(1);
  });

  it('keeps only the id’s SHA-256, and ends a session on close', async () => {
    const sessions = new DashboardSessions(store, [client], () => new Date());
    const id = await sessions.open(client);
    const other = await sessions.open(client);
    const held = await store.query<{ id_sha256: string }>('SELECT id_sha256 FROM dashboard_session');
    expect(held.map((r) => r.id_sha256)).not.toContain(id);
    await sessions.close(id);
    expect(await sessions.find(id)).toBeUndefined();
    expect(await sessions.find(other)).toBe(client);
    for (const bad of [
      undefined,
      '',
      'x',
      `${other}x`,
      other.slice(1),
      'A'.repeat(43),
      `${other.slice(0, 42)}=`,
    ]) {
      expect(await sessions.find(bad), String(bad)).toBeUndefined();
    }
  });

  it('answers for a client of the configuration only', async () => {
    const id = await new DashboardSessions(store, [client], () => new Date()).open(client);
    expect(await new DashboardSessions(store, [], () => new Date()).find(id)).toBeUndefined();
  });

  it('holds at most MAX_SESSIONS, dropping the oldest', async () => {
    let now = Date.parse('2026-11-30T10:00:00Z');
    const sessions = new DashboardSessions(store, [client], () => new Date(now++));
    const first = await sessions.open(client);
    let last = first;
    for (let i = 0; i < MAX_SESSIONS; i++) last = await sessions.open(client);
    expect(await sessions.size()).toBe(MAX_SESSIONS);
    expect(await sessions.find(first)).toBeUndefined();
    expect(await sessions.find(last)).toBe(client);
  }, 60_000);
});

describe('cookies', () => {
  it('reads the session cookie only when it is sent once', () => {
    expect(cookieValue('a=1; mra_dashboard=abc; b=2', 'mra_dashboard')).toBe('abc');
    expect(cookieValue('mra_dashboard=abc; mra_dashboard=def', 'mra_dashboard')).toBeUndefined();
    expect(cookieValue('xmra_dashboard=abc', 'mra_dashboard')).toBeUndefined();
    expect(cookieValue(undefined, 'mra_dashboard')).toBeUndefined();
  });

  it('sets HttpOnly, SameSite=Strict, Path=/, and Secure on TLS', () => {
    expect(sessionCookie('abc', false)).toBe(
      `mra_dashboard=abc; Path=/; Max-Age=${SESSION_TTL_MS / 1000}; HttpOnly; SameSite=Strict`,
    );
    expect(sessionCookie('abc', true)).toMatch(/; Secure$/);
    expect(clearedCookie(true)).toBe('mra_dashboard=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure');
  });
});
