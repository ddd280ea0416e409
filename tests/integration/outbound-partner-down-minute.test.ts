/**
 * Issue 3, "Done when": with the partner down for a minute, every decision arrives exactly once. Settings are
 * the production shape (seconds of backoff, capped), so the retries really span the outage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Exchange, heldAt, makeExchange, outboxOf, settledOutbox } from '../support/delivery.ts';
import { newAeoId, publish } from '../support/exchange.ts';

const OUTAGE_MS = 60_000;

let ex: Exchange;
beforeAll(async () => {
  ex = await makeExchange(['PE', 'CL'], {
    outbound: { attempts: 30, backoffMs: 1_000, maxBackoffMs: 8_000 },
  });
  await ex.start('PE');
  await ex.start('CL');
});
afterAll(() => ex?.close());

describe('a partner down for a minute', () => {
  it('receives every decision published meanwhile exactly once', async () => {
    await ex.stop('CL');
    const started = Date.now();
    const operators = Array.from({ length: 10 }, () => newAeoId('PE'));
    const recordIds: string[] = [];
    // Decisions keep coming during the outage: two for each operator, spread over the minute.
    for (const [i, aeoId] of operators.entries()) {
      recordIds.push((await publish(ex.gw('PE'), aeoId)).record!.recordId);
      await new Promise((r) => setTimeout(r, OUTAGE_MS / 25));
      if (i % 2 === 0)
        recordIds.push((await publish(ex.gw('PE'), aeoId, { decision: 'suspend' })).record!.recordId);
    }
    const during = await outboxOf(ex.store('PE'), 'CL');
    expect(during.some((r) => r.state === 'delivered')).toBe(false);
    expect(during.find((r) => r.state === 'retrying')?.attempts ?? 0).toBeGreaterThanOrEqual(3);

    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - started))));
    await ex.start('CL');
    const rows = await settledOutbox(ex.store('PE'), 'CL', recordIds.length, 30_000);
    expect(rows.map((r) => r.state)).toEqual(Array(recordIds.length).fill('delivered'));
    expect(rows.map((r) => r.recordId)).toEqual(recordIds);

    const held = await heldAt(ex.store('CL'), 'PE', operators);
    expect(held.evidence.size).toBe(recordIds.length);
    for (const id of recordIds) expect(held.evidence.get(id)).toBe(1);
    for (const [i, aeoId] of operators.entries()) {
      expect(held.current.get(aeoId)).toEqual(
        i % 2 === 0 ? { version: 2, status: 'suspended' } : { version: 1, status: 'certified' },
      );
    }
  }, 150_000);
});
