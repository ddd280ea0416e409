/**
 * Sessions of the dashboard: an id opens its client's session until it expires or is closed, a malformed or
 * unknown id opens nothing, the number held is bounded, and the cookie is read only when sent once.
 */
import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/config/types.ts';
import {
  clearedCookie,
  cookieValue,
  DashboardSessions,
  MAX_SESSIONS,
  SESSION_TTL_MS,
  sessionCookie,
} from '../../src/http/dashboard-session.ts';

const client: ApiClient = { id: 'monitoring', tokenSha256: '0'.repeat(64), scopes: new Set(['monitoring']) };

describe('DashboardSessions', () => {
  it('finds a session by its id until it expires', () => {
    let now = Date.parse('2026-11-30T10:00:00Z');
    const sessions = new DashboardSessions(() => new Date(now));
    const id = sessions.open(client);
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sessions.find(id)).toBe(client);
    now += SESSION_TTL_MS - 1;
    expect(sessions.find(id)).toBe(client);
    now += 1;
    expect(sessions.find(id)).toBeUndefined();
    expect(sessions.size).toBe(0);
  });

  it('ends a session on close, and opens nothing for an unknown or malformed id', () => {
    const sessions = new DashboardSessions(() => new Date());
    const id = sessions.open(client);
    const other = sessions.open(client);
    expect(other).not.toBe(id);
    sessions.close(id);
    expect(sessions.find(id)).toBeUndefined();
    expect(sessions.find(other)).toBe(client);
    for (const bad of [
      undefined,
      '',
      'x',
      `${other}x`,
      other.slice(1),
      'A'.repeat(43),
      `${other.slice(0, 42)}=`,
    ]) {
      expect(sessions.find(bad), String(bad)).toBeUndefined();
    }
  });

  it('holds at most MAX_SESSIONS, dropping the oldest', () => {
    const sessions = new DashboardSessions(() => new Date());
    const first = sessions.open(client);
    let last = first;
    for (let i = 0; i < MAX_SESSIONS; i++) last = sessions.open(client);
    expect(sessions.size).toBe(MAX_SESSIONS);
    expect(sessions.find(first)).toBeUndefined();
    expect(sessions.find(last)).toBe(client);
  });
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
