/**
 * The propagation benchmark's border webhook receiver and how its figure is judged: first arrival per
 * administration and operator, repeats and strays counted apart, a missing webhook infinitely late, and
 * bench:quick's row showing the webhook p99 beside the aim.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { printSummary } from '../../bench/lib/quick-table.ts';
import { distribution } from '../../bench/lib/stats.ts';
import type { PartnerLatency } from '../../bench/propagation/latency.ts';
import { webhookP99 } from '../../bench/propagation/runs.ts';
import { aeoIdOf, startWebhookReceiver } from '../../bench/propagation/webhooks.ts';

const event = (aeoId: string) =>
  JSON.stringify({
    type: 'benefits.started',
    timestamp: '2026-01-01T00:00:00Z',
    data: { issuer: 'PE', aeoId },
  });

async function post(url: string, body: string): Promise<number> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  await res.text();
  return res.status;
}

describe('propagation benchmark webhooks', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('keeps the first arrival per administration and operator, answering 2xx at once', async () => {
    const hooks = await startWebhookReceiver(['CL', 'AR']);
    try {
      const before = performance.timeOrigin + performance.now();
      expect(await post(hooks.url('CL'), event('PEL000000001'))).toBe(204);
      const firstAt = hooks.first.get('CL')!.get('PEL000000001')!;
      expect(firstAt).toBeGreaterThanOrEqual(before);
      expect(await post(hooks.url('CL'), event('PEL000000001'))).toBe(204);
      expect(hooks.first.get('CL')!.get('PEL000000001')).toBe(firstAt);
      expect(hooks.repeats).toBe(1);
      expect(hooks.first.get('AR')!.size).toBe(0);
      expect(await post(hooks.url('AR'), event('PEL000000001'))).toBe(204);
      expect(hooks.first.get('AR')!.has('PEL000000001')).toBe(true);
      // Not a subscribed path, and not a record's event: counted, never taken for an arrival.
      expect(await post(hooks.url('CL').replace('/CL', '/BR'), event('PEL000000002'))).toBe(404);
      expect(await post(hooks.url('CL'), 'not json')).toBe(204);
      expect(hooks.others).toBe(2);
      expect(hooks.first.get('CL')!.size).toBe(1);
    } finally {
      await hooks.close();
    }
  });

  it('reads the operator of a notification body and nothing else', () => {
    expect(aeoIdOf(event('PEL000000007'))).toBe('PEL000000007');
    expect(aeoIdOf('{"type":"mra.suspended","data":{"partner":"PE"}}')).toBeUndefined();
    expect(aeoIdOf('[1')).toBeUndefined();
  });

  it('judges a partner with a webhook missing as infinitely late', () => {
    const d = distribution([10, 20, 30]);
    const partner = { webhook: d, missing: 0, webhookMissing: 0 } as unknown as PartnerLatency;
    expect(webhookP99(partner)).toBe(d.p99);
    expect(webhookP99({ ...partner, webhookMissing: 1 })).toBe(Number.POSITIVE_INFINITY);
    expect(webhookP99({ ...partner, missing: 1 })).toBe(Number.POSITIVE_INFINITY);
  });

  it("shows bench:quick's propagation row on the webhook p99, the applied p99 beside it", () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((text: unknown) => {
      lines.push(String(text));
    });
    printSummary(
      {
        propagation: {
          latencyCLP99Ms: 180,
          latencyARP99Ms: 190,
          webhookP99Ms: 260,
          achievedRate: 100,
          echoP99Ms: 3,
        },
      },
      10,
    );
    const row = lines.find((l) => l.includes('webhook p99'));
    expect(row).toBeDefined();
    expect(row).toMatch(/applied p99 190 ms/);
    expect(row).toMatch(/\| 260 ms +\| < 250 ms +\| not met/);
  });
});
