/**
 * The pace of batches to a partner, between two real gateways (src/delivery/pace.ts, outbox-relay.ts): PE sends
 * CL at most `outbound.requestsPerMinute` batches a minute after a burst of 3 s worth, so a partner's limit per
 * caller is never run into (a 429 would hold every decision behind it for its Retry-After). Here 60 a minute,
 * batches of one record: three at once, then one a second, measured by the receipts PE kept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { burstOf } from '../../src/delivery/pace.ts';
import { type Exchange, makeExchange, settledOutbox } from '../support/delivery.ts';
import { publishMany } from '../support/fault-world.ts';

const PER_MINUTE = 60;
const DECISIONS = 8;
// Receipts are kept after the partner's answer: a batch's may come a little before its slot's second.
const JITTER_MS = 250;

let ex: Exchange;
beforeAll(async () => {
  ex = await makeExchange(['PE', 'CL'], { outbound: { batchSize: 1, requestsPerMinute: PER_MINUTE } });
  await ex.start('CL');
  await ex.start('PE');
}, 120_000);
afterAll(async () => {
  await ex?.close();
});

describe('batches to a partner, paced', () => {
  it('sends the burst at once, then one batch a token, and every decision is delivered', async () => {
    await publishMany(ex.gw('PE'), DECISIONS);
    const rows = await settledOutbox(ex.store('PE'), 'CL', DECISIONS, 120_000);
    expect(rows.every((r) => r.state === 'delivered' && r.attempts === 1)).toBe(true);
    const times = (
      await ex.store('PE').query<{ ms: number }>(
        `SELECT (extract(epoch FROM received_at) * 1000)::float8 AS ms FROM outbound_receipt
            WHERE partner = 'CL' ORDER BY received_at`,
      )
    ).map((r) => Number(r.ms));
    expect(times).toHaveLength(DECISIONS);
    const burst = burstOf(PER_MINUTE);
    expect(burst).toBe(3);
    const perTokenMs = 60_000 / PER_MINUTE;
    // Batch i (from 0) waits for token i + 1 - burst: at least that many tokens' time after the first.
    const early = times.flatMap((t, i) => {
      const due = (i + 1 - burst) * perTokenMs - JITTER_MS;
      return t - times[0]! < due ? [`batch ${i} after ${Math.round(t - times[0]!)} ms, due ${due}`] : [];
    });
    expect(early).toEqual([]);
  });
});
