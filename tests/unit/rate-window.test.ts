/** The listener's rate-limit windows (src/http/rate-window.ts), and the store @fastify/rate-limit reads them by. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { rateKeyOf } from '../../src/http/base-app.ts';
import { MAX_CALLERS, RateWindows } from '../../src/http/rate-window.ts';

describe('rate windows', () => {
  it('counts a caller within its window and starts again after it', () => {
    let now = 1_000;
    const windows = new RateWindows(60_000, () => now);
    expect(windows.count('ip:a')).toEqual({ current: 1, ttl: 60_000 });
    now += 59_000;
    expect(windows.count('ip:a')).toEqual({ current: 2, ttl: 1_000 });
    expect(windows.count('ip:b')).toEqual({ current: 1, ttl: 60_000 });
    now += 1_000;
    expect(windows.count('ip:a')).toEqual({ current: 1, ttl: 60_000 });
  });

  it('holds at most MAX_CALLERS callers, dropping ended windows first', () => {
    let now = 0;
    const windows = new RateWindows(1_000, () => now);
    windows.count('old');
    now = 500;
    for (let i = 1; i < MAX_CALLERS; i += 1) windows.count(`ip:${i}`);
    windows.count('old');
    now = 1_200;
    // 'old' began at 0 and has ended: room is made by dropping it, not a caller whose window is still running.
    windows.count('new');
    expect(windows.count('ip:1').current).toBe(2);
    expect(windows.count('old').current).toBe(1);
  });

  afterEach(() => vi.restoreAllMocks());

  it('makes room for a new caller in constant work: no pass over the callers held, one window dropped', () => {
    let now = 0;
    const windows = new RateWindows(60_000, () => now);
    for (let i = 0; i < MAX_CALLERS; i += 1) windows.count(`ip:${i}`);
    now = 1_000;
    const passes = vi.spyOn(Map.prototype, Symbol.iterator);
    const entries = vi.spyOn(Map.prototype, 'entries');
    const drops = vi.spyOn(Map.prototype, 'delete');
    for (let i = 0; i < 1_000; i += 1) windows.count(`ip:new-${i}`);
    expect(passes).not.toHaveBeenCalled();
    expect(entries).not.toHaveBeenCalled();
    expect(drops).toHaveBeenCalledTimes(1_000);
    expect(windows.size).toBe(MAX_CALLERS);
    // The oldest went first: ip:0 starts again, ip:1_000 still counts on.
    vi.restoreAllMocks();
    expect(windows.count('ip:1000').current).toBe(2);
    expect(windows.count('ip:0').current).toBe(1);
  });

  it('moves a window that starts again to the end, so it is not taken for the oldest', () => {
    let now = 0;
    const windows = new RateWindows(1_000, () => now);
    windows.count('a');
    now = 500;
    for (let i = 1; i < MAX_CALLERS; i += 1) windows.count(`ip:${i}`);
    now = 1_100;
    windows.count('a'); // a new window for 'a', now the youngest
    windows.count('new'); // drops ip:1, the oldest
    expect(windows.count('a').current).toBe(2);
    expect(windows.count('ip:2').current).toBe(2);
    expect(windows.count('ip:1').current).toBe(1);
  });

  it('counts an IPv6 caller once for its /64, as the connection guard does', () => {
    expect(rateKeyOf('2001:db8:1:2:aaaa::1')).toBe(rateKeyOf('2001:db8:1:2:bbbb::2'));
    expect(rateKeyOf('2001:db8:1:3::1')).not.toBe(rateKeyOf('2001:db8:1:2::1'));
    expect(rateKeyOf('::ffff:192.0.2.1')).toBe('ip:192.0.2.1');
    expect(rateKeyOf('192.0.2.1')).toBe('ip:192.0.2.1');
  });

  it('gives the plugin the shared windows, and a route with a limit of its own windows of its own', () => {
    const windows = new RateWindows(60_000, () => 0);
    const Store = windows.storeClass();
    const store = new Store({});
    const seen: number[] = [];
    store.incr('ip:a', (_e, use) => seen.push(use?.current ?? -1), 60_000, 10);
    expect(windows.count('ip:a').current).toBe(2);
    const own = store.child({ timeWindow: 1_000 } as never);
    own.incr('ip:a', (_e, use) => seen.push(use?.ttl ?? -1), 1_000, 10);
    expect(seen).toEqual([1, 1_000]);
    expect(windows.count('ip:a').current).toBe(3);
  });
});
