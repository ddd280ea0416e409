/**
 * A partner in trouble (docs/threats.md 60, 62, 63): 5xx and 429 with Retry-After, receipts that prove nothing, a
 * connection dropped after the partner stored the batch, a partner that never answers. Each time the batch is
 * retried with identical bytes (I4) until a verified receipt comes back, and the partner holds each record
 * once (I3). A fault partner on loopback stands between PE and CL's real gateway.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { type Exchange, heldAt, makeExchange, outboxOf, receiptsFrom, waitFor } from '../support/delivery.ts';
import { freePorts, newAeoId, publish } from '../support/exchange.ts';
import { type FaultAction, type FaultPartner, startFaultPartner } from '../support/fault-partner.ts';
import {
  receiptOf,
  receiptOverOtherDigests,
  receiptSignedBy,
  unsignedReceipt,
} from '../support/receipt-forgeries.ts';

let ex: Exchange;
let proxy: FaultPartner;
const logLines: Record<string, unknown>[] = [];

beforeAll(async () => {
  const [port] = await freePorts(1);
  ex = await makeExchange(['PE', 'CL'], {
    outbound: { attempts: 10, requestTimeoutMs: 600 },
    edit: (id, raw) => {
      if (id === 'PE')
        raw.partners.find((p) => p.adminId === 'CL')!.endpoint = `http://127.0.0.1:${port}/mra/v1`;
    },
  });
  proxy = await startFaultPartner(port!, () => ex.gw('CL').url);
  await ex.start('CL');
  await ex.start(
    'PE',
    createLogger('info', { write: (line: string) => void logLines.push(JSON.parse(line)) }),
  );
});
afterAll(async () => {
  await ex?.close();
  await proxy?.close();
});

/** Publishes one decision at PE with `actions` scripted, and waits until its row is settled. */
async function deliverThrough(actions: FaultAction[]) {
  proxy.script(actions);
  const from = proxy.seen.length;
  const aeoId = newAeoId('PE');
  const { record } = await publish(ex.gw('PE'), aeoId);
  const row = await waitFor(
    'the row to settle',
    async () => {
      const r = (await outboxOf(ex.store('PE'), 'CL')).find((o) => o.recordId === record!.recordId);
      return r?.state === 'delivered' || r?.state === 'dead' ? r : undefined;
    },
    15_000,
  );
  const seen = proxy.seen.slice(from);
  const held = await heldAt(ex.store('CL'), 'PE', [aeoId]);
  return { aeoId, recordId: record!.recordId, row, seen, held };
}

describe('delivery through a partner in trouble', () => {
  it('retries 503 and 429 with identical bytes, honouring Retry-After, then delivers', async () => {
    const { row, seen, held, recordId } = await deliverThrough([
      { kind: 'answer', status: 503, body: '{"code":"STORE_UNAVAILABLE"}' },
      { kind: 'answer', status: 429, headers: { 'retry-after': '1' }, body: '{"code":"RATE_LIMITED"}' },
    ]);
    expect(seen.map((s) => s.action)).toEqual(['answer', 'answer', 'forward']);
    expect(new Set(seen.map((s) => s.body)).size).toBe(1); // I4
    // The 503 is retried after the short backoff; the 429 not before the second the partner asked for.
    expect(seen[1]!.at - seen[0]!.at).toBeLessThan(5_000);
    expect(seen[2]!.at - seen[1]!.at).toBeGreaterThanOrEqual(980);
    expect(row).toMatchObject({ state: 'delivered', outcome: 'accepted', attempts: 3 });
    expect(row.lastError).toMatch(/^HTTP 429/);
    expect(held.evidence.get(recordId)).toBe(1);
  });

  it('counts no receipt as delivery unless CL signed it over the digests sent; each refusal is an alert', async () => {
    const cl = ex.admins.get('CL').config.home.signers[0]!;
    const pe = ex.admins.get('PE').config.home.signers[0]!;
    const signedByPe = (real: string) => receiptSignedBy(real, pe);
    const otherDigests = (real: string) => receiptOverOtherDigests(real, cl);
    const byteChanged = (real: string) => `${real.slice(0, -3)}${real.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    const alertsBefore = logLines.filter((l) => l.alert === 'receipt-invalid').length;

    const { row, seen, held, recordId } = await deliverThrough([
      { kind: 'swap-receipt', receipt: unsignedReceipt },
      { kind: 'swap-receipt', receipt: signedByPe },
      { kind: 'swap-receipt', receipt: otherDigests },
      { kind: 'swap-receipt', receipt: byteChanged },
      { kind: 'answer', status: 200, body: 'not json' },
      { kind: 'answer', status: 200, body: '{"receipt":42}' },
    ]);
    expect(seen).toHaveLength(7);
    expect(new Set(seen.map((s) => s.body)).size).toBe(1); // I4
    // CL stored the record on the first attempt; the retries were duplicates of it, and it is held once.
    expect(row).toMatchObject({ state: 'delivered', outcome: 'duplicate', attempts: 7 });
    expect(held.evidence.get(recordId)).toBe(1);
    const alerts = logLines.filter((l) => l.alert === 'receipt-invalid').slice(alertsBefore);
    expect(alerts).toHaveLength(6);
    expect(alerts.map((a) => a.level)).toEqual(Array(6).fill(50));
    // Only the valid receipt was kept, and it names this row's record.
    const kept = (await receiptsFrom(ex.store('PE'), 'CL')).filter((r) => r.receiptId === row.receiptId);
    expect(kept).toHaveLength(1);
    expect(receiptOf(kept[0]!.jws).results.map((r) => r.recordId)).toEqual([recordId]);
  });

  it('retries a batch whose receipt was lost with the connection, and the partner holds it once', async () => {
    const { row, seen, held, recordId } = await deliverThrough([{ kind: 'drop-after-forward' }]);
    expect(seen.map((s) => s.action)).toEqual(['drop-after-forward', 'forward']);
    expect(seen[0]!.body).toBe(seen[1]!.body);
    expect(row).toMatchObject({ state: 'delivered', outcome: 'duplicate', attempts: 2 });
    expect(held.evidence.get(recordId)).toBe(1);
  });

  it('gives up on a partner that never answers after the request timeout, and tries again', async () => {
    const { row, seen, held, recordId } = await deliverThrough([{ kind: 'hang' }]);
    expect(seen.map((s) => s.action)).toEqual(['hang', 'forward']);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(550);
    expect(row).toMatchObject({ state: 'delivered', outcome: 'accepted', attempts: 2 });
    expect(row.lastError).toMatch(/^no answer/);
    expect(held.evidence.get(recordId)).toBe(1);
  });

  it('closes mid-delivery after the batch in hand, and the restarted gateway delivers it once', async () => {
    proxy.script([{ kind: 'hang' }]);
    const from = proxy.seen.length;
    const aeoId = newAeoId('PE');
    const { record } = await publish(ex.gw('PE'), aeoId);
    await waitFor('the batch in flight', async () => (proxy.seen.length > from ? true : undefined));
    const t0 = Date.now();
    await ex.stop('PE'); // the worker finishes its attempt (bounded by the request timeout) before closing
    expect(Date.now() - t0).toBeLessThan(15_000);
    const [left] = (await outboxOf(ex.store('PE'), 'CL')).filter((r) => r.recordId === record!.recordId);
    expect(left).toMatchObject({ state: 'retrying', attempts: 1 });

    await ex.start('PE');
    const row = await waitFor('delivered after the restart', async () => {
      const r = (await outboxOf(ex.store('PE'), 'CL')).find((o) => o.recordId === record!.recordId);
      return r?.state === 'delivered' ? r : undefined;
    });
    expect(row.attempts).toBe(2);
    expect(proxy.seen.slice(from).map((s) => s.action)).toEqual(['hang', 'forward']);
    expect((await heldAt(ex.store('CL'), 'PE', [aeoId])).evidence.get(record!.recordId)).toBe(1);
  });
});
