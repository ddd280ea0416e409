/**
 * docs/threats.md 62 and 63 for real, in the world of support/fault-partner-world.ts: the fault partner answers
 * with receipts that prove nothing, and the proxy cuts connections after the request went through, to the
 * partner and to the border receiver. The partner down, slow, answering 5xx, 429 or 4xx (60, 61):
 * partner.fault.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/delivery.ts';
import type { FaultAction } from '../support/fault-partner.ts';
import { PartnerWorld } from '../support/fault-partner-world.ts';
import { notificationsSettled, pushMany, webhookCounts } from '../support/fault-world.ts';
import { receiptOverOtherDigests, receiptSignedBy, unsignedReceipt } from '../support/receipt-forgeries.ts';
import { report } from './report.ts';

const w = new PartnerWorld();
beforeAll(() => w.start(), 180_000);
afterAll(() => w.close());

describe('a partner and a receiver in trouble', () => {
  it('G62 receipts unsigned, wrongly signed or for other digests: not delivered, retried, each an alert', async () => {
    const cl = w.ex.admins.get('CL').config.home.signers[0]!;
    const pe = w.ex.admins.get('PE').config.home.signers[0]!;
    const actions: FaultAction[] = [
      { kind: 'swap-receipt', receipt: unsignedReceipt },
      { kind: 'swap-receipt', receipt: (real) => receiptSignedBy(real, pe) },
      { kind: 'swap-receipt', receipt: (real) => receiptOverOtherDigests(real, cl) },
    ];
    w.partner.script(actions);
    const alertsBefore = w.logLines.filter((l) => l.alert === 'receipt-invalid').length;
    const r = await w.publishAndSettle(20);
    const alerts = w.logLines.filter((l) => l.alert === 'receipt-invalid').length - alertsBefore;
    expect(alerts).toBe(3);
    // The three refused receipts cost three byte-identical retries (I4), nothing else.
    expect(r.seen.length - new Set(r.seen.map((x) => x.body)).size).toBe(3);
    expect(r.rows.every((x) => x.state === 'delivered')).toBe(true);
    expect(r.held).toEqual({ once: 20, duplicates: 0, lost: 0 });
    report(
      'G62',
      `3 receipts that prove nothing (unsigned, signed by the wrong key, other digests): ${alerts} alerts, ` +
        `${r.seen.length} requests (3 byte-identical retries), ${r.held.once} of 20 delivered once ` +
        `(${r.rows.filter((x) => x.outcome === 'duplicate').length} duplicate outcomes), 0 lost`,
    );
  });

  it('G63 connection dropped after the partner stored, before the receipt: identical retry, delivered once', async () => {
    const from = w.partner.seen.length;
    w.proxy.mode({ kind: 'drop-after', bytes: 0, direction: 'down' });
    const cutBefore = w.proxy.stats.cut;
    const r = await w.publishAndSettle(20, async () => {
      await waitFor(
        'a cut answer',
        async () => (w.proxy.stats.cut > cutBefore ? true : undefined),
        60_000,
        5,
      );
      w.proxy.mode({ kind: 'pass' });
    });
    const seen = w.partner.seen.slice(from);
    const bodies = seen.map((x) => x.body);
    expect(new Set(bodies).size).toBeLessThan(bodies.length); // a batch went twice
    expect(r.rows.every((x) => x.state === 'delivered')).toBe(true);
    expect(r.held).toEqual({ once: 20, duplicates: 0, lost: 0 });
    // The receiver's side: the webhook got there, its answer did not.
    const signer = w.ex.admins.get('CL').config.home.signers[0]!;
    const hookCut = w.hookProxy.stats.cut;
    w.hookProxy.mode({ kind: 'drop-after', bytes: 0, direction: 'down' });
    const q = await pushMany(w.ex.gw('PE'), signer, 10, 10);
    await waitFor(
      'a cut webhook answer',
      async () => (w.hookProxy.stats.cut > hookCut ? true : undefined),
      60_000,
      5,
    );
    w.hookProxy.mode({ kind: 'pass' });
    await waitFor('webhooks through', async () =>
      webhookCounts(w.receiver.on('/border'), q.aeoIds).operators === 10 ? true : undefined,
    );
    await notificationsSettled(w.ex.store('PE'));
    const hooks = webhookCounts(w.receiver.on('/border'), q.aeoIds);
    expect(hooks.resent).toBeGreaterThanOrEqual(1);
    expect(hooks.differing).toBe(0);
    report(
      'G63',
      `answer cut after the partner stored (proxy drop-after 0 bytes down): ${bodies.length} requests for ` +
        `${new Set(bodies).size} batches, retries byte-identical, ${r.rows.filter((x) => x.outcome === 'duplicate').length} ` +
        `duplicate outcomes, ${r.held.once} of 20 delivered once, 0 twice; receiver's answer cut: ${hooks.events} webhooks, ` +
        `${hooks.resent} resent with the same id and bytes`,
    );
  });
});
