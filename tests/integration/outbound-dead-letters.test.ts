/**
 * Dead letters (docs/threats.md 60, 61; I7): a batch the partner refuses with a 4xx is not retried blindly; a batch
 * that fails until its attempts run out is given up; a record the partner rejects is dead with its code while
 * the record beside it in the same batch is delivered. All of them are visible through the API and can be
 * replayed once, after which they are delivered exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Exchange,
  heldAt,
  makeExchange,
  type OutboxRow,
  outboxOf,
  waitFor,
} from '../support/delivery.ts';
import { API_TOKENS, bearer, freePorts, newAeoId, publish } from '../support/exchange.ts';
import { type FaultPartner, startFaultPartner } from '../support/fault-partner.ts';
import { httpRequest, postTo } from '../support/gateway.ts';

let ex: Exchange;
let proxy: FaultPartner;

beforeAll(async () => {
  const [port] = await freePorts(1);
  ex = await makeExchange(['PE', 'CL'], {
    outbound: { attempts: 3, backoffMs: 50, maxBackoffMs: 200 },
    edit: (id, raw) => {
      if (id === 'PE')
        raw.partners.find((p) => p.adminId === 'CL')!.endpoint = `http://127.0.0.1:${port}/mra/v1`;
      // CL's side of the MRA leaves customs simplifications (AEO-C) out; PE's side does not.
      if (id === 'CL')
        raw.partners.find((p) => p.adminId === 'PE')!.mra.scope.programmes = ['AEO-S', 'AEO-F'];
    },
  });
  proxy = await startFaultPartner(port!, () => ex.gw('CL').url);
  await ex.start('CL');
  await ex.start('PE');
});
afterAll(async () => {
  await ex?.close();
  await proxy?.close();
});

const rowOf = async (recordId: string) =>
  (await outboxOf(ex.store('PE'), 'CL')).find((r) => r.recordId === recordId);

function settled(recordId: string, state: 'delivered' | 'dead'): Promise<OutboxRow> {
  return waitFor(`${recordId} ${state}`, async () => {
    const row = await rowOf(recordId);
    return row?.state === state ? row : undefined;
  });
}

async function api(
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  token: string = API_TOKENS.operator,
) {
  const url = `${ex.gw('PE').gateway.apiUrl}/api/v1${path}`;
  const res =
    method === 'GET'
      ? await httpRequest(url, { method, headers: bearer(token) })
      : await postTo(url, body, { headers: bearer(token) });
  return { status: res.status, body: JSON.parse(res.text) as Record<string, unknown> };
}

const deadAtApi = async () =>
  ((await api('GET', '/deliveries?state=dead&partner=CL')).body.deliveries as { id: number }[]).map(
    (d) => d.id,
  );

describe('dead letters and their replay', () => {
  it('dead-letters a batch refused with 400 after one attempt, and replays it exactly once', async () => {
    proxy.script([{ kind: 'answer', status: 400, body: '{"code":"BODY_INVALID","detail":"no"}' }]);
    const from = proxy.seen.length;
    const aeoId = newAeoId('PE');
    const { record } = await publish(ex.gw('PE'), aeoId);
    const dead = await settled(record!.recordId, 'dead');
    expect(dead).toMatchObject({ attempts: 1, outcome: null, receiptId: null });
    expect(dead.lastError).toMatch(/^HTTP 400: .*BODY_INVALID/);
    await new Promise((r) => setTimeout(r, 400)); // a blind retry would have come by now
    expect(proxy.seen.length - from).toBe(1);
    expect(await deadAtApi()).toContain(dead.id);

    // Only the admin scope replays; the caller must say which rows.
    expect((await api('POST', '/deliveries/replay', { ids: [dead.id] }, API_TOKENS.publishOnly)).status).toBe(
      403,
    );
    expect((await api('POST', '/deliveries/replay', {})).status).toBe(400);
    const replays = await Promise.all([
      api('POST', '/deliveries/replay', { ids: [dead.id] }),
      api('POST', '/deliveries/replay', { ids: [dead.id] }),
    ]);
    expect(replays.map((r) => r.status)).toEqual([200, 200]);
    // Two replays at once: one of them replays the row, the other finds nothing dead.
    expect(replays.map((r) => r.body.replayed).sort()).toEqual([[], [dead.id]]);
    const delivered = await settled(record!.recordId, 'delivered');
    expect(delivered).toMatchObject({ outcome: 'accepted', attempts: 1 });
    expect((await api('POST', '/deliveries/replay', { ids: [dead.id] })).body).toEqual({ replayed: [] });
    expect(proxy.seen.length - from).toBe(2);
    const held = await heldAt(ex.store('CL'), 'PE', [aeoId]);
    expect([...held.evidence.values()]).toEqual([1]);
    expect(await deadAtApi()).not.toContain(dead.id);
  });

  it('gives a batch up after the configured attempts, each with the same bytes, then replays it by partner', async () => {
    proxy.script(Array(3).fill({ kind: 'answer', status: 503, body: '{"code":"STORE_UNAVAILABLE"}' }));
    const from = proxy.seen.length;
    const aeoId = newAeoId('PE');
    const { record } = await publish(ex.gw('PE'), aeoId);
    const dead = await settled(record!.recordId, 'dead');
    expect(dead.attempts).toBe(3);
    expect(dead.lastError).toMatch(/^gave up after 3 attempts: HTTP 503/);
    const seen = proxy.seen.slice(from);
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((s) => s.body)).size).toBe(1); // I4

    const replay = await api('POST', '/deliveries/replay', { partner: 'CL' });
    expect(replay.body.replayed).toEqual([dead.id]);
    await settled(record!.recordId, 'delivered');
    expect(proxy.seen.length - from).toBe(4);
    expect([...(await heldAt(ex.store('CL'), 'PE', [aeoId])).evidence.values()]).toEqual([1]);
  });

  it('dead-letters the record CL rejects while the one beside it in the batch is delivered', async () => {
    // The first batch waits a second (Retry-After); the next two decisions queue behind it and leave together.
    proxy.script([{ kind: 'answer', status: 503, headers: { 'retry-after': '1' } }]);
    const first = await publish(ex.gw('PE'), newAeoId('PE'));
    const [outOfScope, inScope] = [newAeoId('PE'), newAeoId('PE')];
    const rejected = await publish(ex.gw('PE'), outOfScope, { programme: 'AEO-C' });
    const accepted = await publish(ex.gw('PE'), inScope);

    const x = await settled(first.record!.recordId, 'delivered');
    const y = await settled(rejected.record!.recordId, 'dead');
    const z = await settled(accepted.record!.recordId, 'delivered');
    // One receipt for both: the partner judged each record on its own (I7).
    expect(y.receiptId).not.toBeNull();
    expect(y.receiptId).toBe(z.receiptId);
    expect(x.receiptId).not.toBe(y.receiptId);
    expect(y).toMatchObject({ outcome: 'rejected', attempts: 1 });
    expect(y.lastError).toMatch(/^OUT_OF_SCOPE: /);
    expect(z.outcome).toBe('accepted');
    expect(x.id).toBeLessThan(y.id); // the earlier batch went first, though it was retried

    const held = await heldAt(ex.store('CL'), 'PE', [outOfScope, inScope]);
    expect(held.current.has(outOfScope)).toBe(false);
    expect(held.current.get(inScope)).toEqual({ version: 1, status: 'certified' });

    const status = await api('GET', `/records/${rejected.record!.recordId}/deliveries`);
    expect(status.body.deliveries).toEqual([
      expect.objectContaining({ partner: 'CL', state: 'dead', outcome: 'rejected', receiptId: y.receiptId }),
    ]);
  });
});
