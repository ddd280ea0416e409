/**
 * docs/threats.md 60, as the partner sees it: a partner that answers 503 several times gets attempts whose gaps
 * grow roughly exponentially within the configured bounds (backoffMs, maxBackoffMs) and are jittered, and a
 * Retry-After it sends is never undercut. Bounds are asserted with a generous margin above and 50 ms below,
 * so a loaded machine can only make gaps longer, never fail the test for being slow (docs/threats.md 80).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Exchange, heldAt, makeExchange, outboxOf, waitFor } from '../support/delivery.ts';
import { freePorts, newAeoId, publish } from '../support/exchange.ts';
import { type FaultAction, type FaultPartner, startFaultPartner } from '../support/fault-partner.ts';

const BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 1_600;
/** Lateness a loaded machine may add to a delayed job; the lower bounds get no such slack. */
const LATE_MS = 5_000;
const EARLY_MS = 50;

let ex: Exchange;
let proxy: FaultPartner;

beforeAll(async () => {
  const [port] = (await freePorts(1)) as [number];
  ex = await makeExchange(['PE', 'CL'], {
    outbound: {
      attempts: 10,
      backoffMs: BACKOFF_MS,
      maxBackoffMs: MAX_BACKOFF_MS,
      requestTimeoutMs: 5_000,
    },
    edit: (id, raw) => {
      if (id === 'PE')
        raw.partners.find((p) => p.adminId === 'CL')!.endpoint = `http://127.0.0.1:${port}/mra/v1`;
    },
  });
  proxy = await startFaultPartner(port, () => ex.gw('CL').url);
  await ex.start('CL');
  await ex.start('PE');
});
afterAll(async () => {
  await ex?.close();
  await proxy?.close();
});

/** Publishes one decision with `actions` scripted; returns the gaps between the attempts the partner saw. */
async function gapsThrough(actions: FaultAction[]): Promise<number[]> {
  proxy.script(actions);
  const from = proxy.seen.length;
  const aeoId = newAeoId('PE');
  const { record } = await publish(ex.gw('PE'), aeoId);
  await waitFor(
    'the row to be delivered',
    async () => {
      const r = (await outboxOf(ex.store('PE'), 'CL')).find((o) => o.recordId === record!.recordId);
      return r?.state === 'delivered' ? r : undefined;
    },
    120_000,
    50,
  );
  const seen = proxy.seen.slice(from);
  expect(seen.map((s) => s.action)).toEqual([...actions.map((a) => a.kind), 'forward']);
  // Every attempt carried the same bytes (I4), and the partner holds the record once (I3).
  expect(new Set(seen.map((s) => s.body)).size).toBe(1);
  expect([...(await heldAt(ex.store('CL'), 'PE', [aeoId])).evidence.values()]).toEqual([1]);
  return seen.slice(1).map((s, i) => s.at - seen[i]!.at);
}

const unavailable: FaultAction = { kind: 'answer', status: 503, body: '{}' };

describe('retries of a partner in trouble', () => {
  it('back off exponentially within base and max, with jitter', async () => {
    const failures = 6;
    const gaps = await gapsThrough(Array.from({ length: failures }, () => unavailable));
    expect(gaps).toHaveLength(failures);
    const steps = gaps.map((_, i) => Math.min(MAX_BACKOFF_MS, BACKOFF_MS * 2 ** i));
    expect(steps).toEqual([200, 400, 800, 1_600, 1_600, 1_600]);
    for (const [i, gap] of gaps.entries()) {
      expect(gap, `gap ${i + 1} of ${JSON.stringify(gaps)}`).toBeGreaterThanOrEqual(steps[i]! / 2 - EARLY_MS);
      expect(gap, `gap ${i + 1} of ${JSON.stringify(gaps)}`).toBeLessThanOrEqual(steps[i]! + LATE_MS);
    }
    // Growth: the later gaps together are well above the first ones, whatever the jitter drew.
    expect(gaps[3]! + gaps[4]!, JSON.stringify(gaps)).toBeGreaterThan(gaps[0]! + gaps[1]!);
    // Jitter: the gaps are not one fixed fraction of their step.
    const ratios = gaps.map((g, i) => g / steps[i]!);
    expect(Math.max(...ratios) - Math.min(...ratios), JSON.stringify(gaps)).toBeGreaterThan(0.02);
  }, 180_000);

  it('never come before the Retry-After the partner sent', async () => {
    const gaps = await gapsThrough([
      { kind: 'answer', status: 503, headers: { 'retry-after': '2' }, body: '{}' },
      { kind: 'answer', status: 429, headers: { 'retry-after': '1' }, body: '{}' },
      unavailable,
    ]);
    // Without Retry-After the first two gaps could be 100 and 200 ms.
    expect(gaps[0], JSON.stringify(gaps)).toBeGreaterThanOrEqual(2_000 - EARLY_MS);
    expect(gaps[1], JSON.stringify(gaps)).toBeGreaterThanOrEqual(1_000 - EARLY_MS);
    // After a failure without one, the policy's own bound again (third step: 800 ms, so at least 400).
    expect(gaps[2], JSON.stringify(gaps)).toBeGreaterThanOrEqual(400 - EARLY_MS);
    expect(gaps[2], JSON.stringify(gaps)).toBeLessThanOrEqual(800 + LATE_MS);
  }, 180_000);
});
