/**
 * Verified bearer tokens are cached (src/http/api-auth.ts): by their SHA-256, per configuration, for a minute,
 * at most TOKEN_CACHE_ENTRIES of them. A token unknown to a configuration is never answered from another's cache.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/config/types.ts';
import { findApiClient, TOKEN_CACHE_ENTRIES, TOKEN_CACHE_MS } from '../../src/http/api-auth.ts';

const tokenOf = (i: number) => `cache-test-token-${String(i).padStart(6, '0')}`;
const clientOf = (i: number): ApiClient =>
  ({
    id: `client-${i}`,
    tokenSha256: createHash('sha256').update(tokenOf(i)).digest('hex'),
    scopes: new Set(['border']),
  }) as ApiClient;
const bearer = (i: number) => `Bearer ${tokenOf(i)}`;
const T0 = 1_800_000_000_000;

describe('the cache of verified tokens', () => {
  it('answers from the cache for a minute, then verifies again', () => {
    const clients = [clientOf(1), clientOf(2)];
    expect(findApiClient(clients, bearer(2), T0)?.id).toBe('client-2');
    // The array is the configuration's: changed in place, only the cache still knows the token.
    clients.pop();
    expect(findApiClient(clients, bearer(2), T0 + TOKEN_CACHE_MS - 1)?.id).toBe('client-2');
    expect(findApiClient(clients, bearer(2), T0 + TOKEN_CACHE_MS)).toBeUndefined();
    expect(findApiClient(clients, bearer(1), T0 + TOKEN_CACHE_MS)?.id).toBe('client-1');
  });

  it('is a new cache for a new configuration', () => {
    const first = [clientOf(1), clientOf(3)];
    expect(findApiClient(first, bearer(3), T0)?.id).toBe('client-3');
    const second = [clientOf(1)];
    expect(findApiClient(second, bearer(3), T0)).toBeUndefined();
  });

  it('never caches a token that matched nothing', () => {
    const clients = [clientOf(1)];
    expect(findApiClient(clients, bearer(4), T0)).toBeUndefined();
    clients.push(clientOf(4));
    expect(findApiClient(clients, bearer(4), T0)?.id).toBe('client-4');
  });

  it('holds at most its bound, dropping the oldest first', () => {
    const clients = Array.from({ length: TOKEN_CACHE_ENTRIES + 1 }, (_, i) => clientOf(i));
    for (let i = 0; i <= TOKEN_CACHE_ENTRIES; i += 1) findApiClient(clients, bearer(i), T0);
    const [oldest] = clients.splice(0, 1);
    const newest = clients.pop();
    // The oldest was dropped to make room: with its client gone it is unknown; the newest is still cached.
    expect(findApiClient(clients, bearer(0), T0)).toBeUndefined();
    expect(findApiClient(clients, bearer(TOKEN_CACHE_ENTRIES), T0)?.id).toBe(newest?.id);
    expect(oldest?.id).toBe('client-0');
  });

  it('refuses what is not a bearer token before hashing', () => {
    expect(findApiClient([clientOf(1)], `bearer ${tokenOf(1)}`, T0)).toBeUndefined();
    expect(findApiClient([clientOf(1)], undefined, T0)).toBeUndefined();
  });
});
