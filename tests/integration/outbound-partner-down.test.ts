/**
 * The partner's gateway is down while decisions are published (docs/threats.md 60): the first
 * batch is retried with backoff while the later rows wait behind it in the outbox, and once the partner is back
 * every decision arrives exactly once, in version order (I1, I3, I5).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Exchange,
  heldAt,
  makeExchange,
  outboxOf,
  settledOutbox,
  waitFor,
} from '../support/delivery.ts';
import { newAeoId, publish } from '../support/exchange.ts';
import { httpRequest } from '../support/gateway.ts';

let ex: Exchange;
beforeAll(async () => {
  // Enough attempts that nothing is given up while CL is away for a few seconds.
  ex = await makeExchange(['PE', 'CL'], { outbound: { attempts: 40, backoffMs: 50, maxBackoffMs: 300 } });
  await ex.start('PE');
  await ex.start('CL');
});
afterAll(() => ex?.close());

describe('a partner that is down, then back', () => {
  it('delivers every decision published meanwhile exactly once, in order', async () => {
    await ex.stop('CL');
    const [a, b, c] = [newAeoId('PE'), newAeoId('PE'), newAeoId('PE')];
    const published = [
      await publish(ex.gw('PE'), a),
      await publish(ex.gw('PE'), b),
      await publish(ex.gw('PE'), a, { decision: 'suspend' }),
      await publish(ex.gw('PE'), c),
      await publish(ex.gw('PE'), a, { decision: 'revoke' }),
    ];
    const recordIds = published.map((p) => p.record!.recordId);

    // The first batch is being retried; the rows behind it wait, not yet enqueued.
    const waiting = await waitFor('retries while CL is down', async () => {
      const rows = await outboxOf(ex.store('PE'), 'CL');
      return rows.length === 5 && rows[0]!.state === 'retrying' && rows[0]!.attempts >= 3 ? rows : undefined;
    });
    expect(waiting[0]!.lastError).toMatch(/^no answer: .*ECONNREFUSED/);
    const inFlight = new Set(waiting.filter((r) => r.state === 'retrying').map((r) => r.recordId));
    expect(waiting.filter((r) => !inFlight.has(r.recordId)).every((r) => r.state === 'pending')).toBe(true);
    // Publishing and readiness do not depend on the partner.
    const ready = await httpRequest(`${ex.gw('PE').gateway.apiUrl}/health/ready`, { method: 'GET' });
    expect(JSON.parse(ready.text)).toMatchObject({ status: 'ready', redis: true });

    await ex.start('CL');
    const rows = await settledOutbox(ex.store('PE'), 'CL', 5, 15_000);
    expect(rows.map((r) => r.state)).toEqual(Array(5).fill('delivered'));
    expect(rows.every((r) => r.outcome === 'accepted' || r.outcome === 'duplicate')).toBe(true);
    expect(rows.map((r) => r.recordId)).toEqual(recordIds);

    // Exactly once at CL, and the latest version of each operator is its state.
    const held = await heldAt(ex.store('CL'), 'PE', [a, b, c]);
    expect(held.evidence.size).toBe(5);
    for (const id of recordIds) expect(held.evidence.get(id)).toBe(1);
    expect(held.current.get(a)).toEqual({ version: 3, status: 'revoked' });
    expect(held.current.get(b)).toEqual({ version: 1, status: 'certified' });
    expect(held.current.get(c)).toEqual({ version: 1, status: 'certified' });
    // Nothing at CL was superseded: no later version overtook an earlier one (I5).
    const [superseded] = await ex
      .store('CL')
      .query<{ n: string }>(`SELECT count(*)::text AS n FROM inbound_record WHERE outcome = 'superseded'`);
    expect(Number(superseded!.n)).toBe(0);
    // Receipts were received in outbox order.
    const order = await ex.store('PE').query<{ id: string }>(
      `SELECT o.id::text FROM outbox o JOIN outbound_receipt r ON r.receipt_id = o.receipt_id
          WHERE o.partner = 'CL' ORDER BY r.received_at, o.id`,
    );
    expect(order.map((o) => Number(o.id))).toEqual(rows.map((r) => r.id));
  });
});
