/** The read model's load at start: retried without end, and the bounded queue of changes that wait for it. */
import { describe, expect, it } from 'vitest';
import type { InboundChange } from '../../src/inbound/change.ts';
import { createLogger } from '../../src/log.ts';
import { untilLoaded, WaitingChanges } from '../../src/lookup/load-loop.ts';

const change = (n: number): InboundChange => ({ sender: null, receivedAt: n, changes: [] });

describe('changes waiting for the load', () => {
  it('are kept in order up to the bound', () => {
    const waiting = new WaitingChanges(3);
    waiting.push(change(1));
    waiting.push(change(2));
    waiting.push(change(3));
    expect(waiting.take()).toEqual({ changes: [change(1), change(2), change(3)], overflowed: false });
    expect(waiting.length).toBe(0);
  });

  it('are all dropped past the bound, and stay dropped until taken: the catch-up reads them', () => {
    const waiting = new WaitingChanges(3);
    for (let n = 1; n <= 5; n += 1) waiting.push(change(n));
    expect(waiting.length).toBe(0);
    expect(waiting.take()).toEqual({ changes: [], overflowed: true });
    waiting.push(change(6));
    expect(waiting.take()).toEqual({ changes: [change(6)], overflowed: false });
  });
});

describe('the load at start', () => {
  it('is tried until it succeeds, however many times it fails, logging each cause once', async () => {
    let calls = 0;
    const lines: string[] = [];
    const log = createLogger('silent');
    log.error = ((o: { err: string }) => {
      lines.push(o.err);
    }) as typeof log.error;
    const done = await untilLoaded(
      async () => {
        calls += 1;
        if (calls <= 40) throw new Error(calls <= 20 ? 'store down' : 'store busy');
      },
      { log, signal: new AbortController().signal, firstDelayMs: 1, maxDelayMs: 2, onError: () => {} },
    );
    expect(done).toBe(true);
    expect(calls).toBe(41);
    expect(lines).toEqual(['store down', 'store busy']);
  });

  it('stops when the service closes', async () => {
    const closing = new AbortController();
    const done = untilLoaded(
      async () => {
        throw new Error('store down');
      },
      { log: createLogger('silent'), signal: closing.signal, firstDelayMs: 1_000, onError: () => {} },
    );
    closing.abort();
    expect(await done).toBe(false);
  });
});
