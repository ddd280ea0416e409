/**
 * Outbound delivery end to end, both ways, over mutual TLS: decisions published at one gateway are pushed by
 * the relay and worker to the other, which holds them as current state; the sender keeps each verified
 * receipt, and the API shows where every record stands (I1, I3, I5).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Partner } from '../../src/mra/types.ts';
import { checkReceipt } from '../../src/partner-client/receipt-check.ts';
import {
  type Exchange,
  heldAt,
  makeExchange,
  outboxOf,
  receiptsFrom,
  settledOutbox,
} from '../support/delivery.ts';
import { API_TOKENS, bearer, newAeoId, publish } from '../support/exchange.ts';
import { httpRequest } from '../support/gateway.ts';

let ex: Exchange;
beforeAll(async () => {
  ex = await makeExchange(['PE', 'CL'], { mtls: true });
  await ex.start('PE');
  await ex.start('CL');
});
afterAll(() => ex?.close());

const partnerAt = (home: string, partner: string): Partner =>
  ex.admins.get(home).config.partners.find((p) => p.adminId === partner)!;

async function apiGet(home: string, path: string, token: string = API_TOKENS.operator) {
  const res = await httpRequest(`${ex.gw(home).gateway.apiUrl}${path}`, {
    method: 'GET',
    headers: bearer(token),
  });
  return { status: res.status, body: JSON.parse(res.text) as Record<string, unknown> };
}

describe('outbound delivery between two gateways', () => {
  it('delivers PE decisions to CL once each, in version order, and PE keeps verified receipts', async () => {
    const a = newAeoId('PE');
    const b = newAeoId('PE');
    const published = [
      await publish(ex.gw('PE'), a),
      await publish(ex.gw('PE'), a, { decision: 'suspend', suspendedUntil: '2027-01-31' }),
      await publish(ex.gw('PE'), b),
    ];
    for (const p of published) expect(p.record?.partners).toEqual(['CL']);

    const rows = await settledOutbox(ex.store('PE'), 'CL', 3);
    expect(rows.map((r) => [r.aeoId, r.version, r.state, r.outcome])).toEqual([
      [a, 1, 'delivered', 'accepted'],
      [a, 2, 'delivered', 'accepted'],
      [b, 1, 'delivered', 'accepted'],
    ]);

    // I3: each record is one evidence row at CL; I5: the current state is the latest version.
    const held = await heldAt(ex.store('CL'), 'PE', [a, b]);
    expect(held.evidence.size).toBe(3);
    for (const p of published) expect(held.evidence.get(p.record!.recordId)).toBe(1);
    expect(held.current.get(a)).toEqual({ version: 2, status: 'suspended' });
    expect(held.current.get(b)).toEqual({ version: 1, status: 'certified' });

    // Each receipt PE kept is CL's signature over the digests of exactly the rows it settled.
    const receipts = await receiptsFrom(ex.store('PE'), 'CL');
    expect(new Set(rows.map((r) => r.receiptId))).toEqual(new Set(receipts.map((r) => r.receiptId)));
    for (const receipt of receipts) {
      const sent = await ex.store('PE').query<{ jws: string }>(
        `SELECT h.jws FROM outbox o JOIN home_record h ON h.seq = o.record_seq
            WHERE o.receipt_id = $1 ORDER BY o.id`,
        [receipt.receiptId],
      );
      const checked = await checkReceipt(
        receipt.jws,
        sent.map((s) => s.jws),
        { home: 'PE', partner: partnerAt('PE', 'CL'), at: new Date() },
      );
      expect(checked.ok, JSON.stringify(checked)).toBe(true);
    }
  });

  it('delivers the other way too: a CL decision is held at PE, and CL keeps the receipt', async () => {
    const c = newAeoId('CL');
    const { record } = await publish(ex.gw('CL'), c, {
      operator: {
        identifiers: [{ scheme: 'TIN', value: `${c}T` }],
        name: `Exportadora ${c}`,
        address: { street: 'Av. Apoquindo 3000', city: 'Santiago', country: 'CL' },
        roles: ['exporter'],
      },
    });
    const rows = await settledOutbox(ex.store('CL'), 'PE', 1);
    expect(rows[0]).toMatchObject({ recordId: record!.recordId, state: 'delivered', outcome: 'accepted' });
    expect((await receiptsFrom(ex.store('CL'), 'PE')).map((r) => r.receiptId)).toEqual([rows[0]!.receiptId]);
    const held = await heldAt(ex.store('PE'), 'CL', [c]);
    expect([...held.evidence.values()]).toEqual([1]);
    expect(held.current.get(c)).toEqual({ version: 1, status: 'certified' });
  });

  it('shows delivery status per record and per partner through the API', async () => {
    const d = newAeoId('PE');
    const { record } = await publish(ex.gw('PE'), d);
    await settledOutbox(ex.store('PE'), 'CL', (await outboxOf(ex.store('PE'), 'CL')).length);

    const one = await apiGet('PE', `/api/v1/records/${record!.recordId}/deliveries`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual({
      recordId: record!.recordId,
      deliveries: [
        expect.objectContaining({
          partner: 'CL',
          aeoId: d,
          version: 1,
          state: 'delivered',
          outcome: 'accepted',
          attempts: 1,
          receiptId: expect.stringMatching(/^[0-9a-f-]{36}$/),
          deliveredAt: expect.any(String),
        }),
      ],
    });

    const list = await apiGet('PE', '/api/v1/deliveries?state=delivered&partner=CL&limit=2');
    expect(list.status).toBe(200);
    const page = list.body.deliveries as { id: number; state: string }[];
    expect(page).toHaveLength(2);
    expect(page.every((r) => r.state === 'delivered')).toBe(true);
    const rest = await apiGet('PE', `/api/v1/deliveries?state=delivered&partner=CL&after=${list.body.next}`);
    expect((rest.body.deliveries as unknown[]).length).toBe(
      (await outboxOf(ex.store('PE'), 'CL')).length - 2,
    );
    expect(rest.body.next).toBeNull();

    expect((await apiGet('PE', `/api/v1/records/${crypto.randomUUID()}/deliveries`)).status).toBe(404);
    expect((await apiGet('PE', '/api/v1/deliveries?state=lost')).status).toBe(400);
    // A monitoring token has neither the publish nor the admin scope.
    expect((await apiGet('PE', '/api/v1/deliveries', API_TOKENS.monitoring)).status).toBe(403);
    expect((await apiGet('PE', '/api/v1/deliveries', API_TOKENS.publishOnly)).status).toBe(200);
  });

  it('reports Redis in readiness', async () => {
    const res = await httpRequest(`${ex.gw('PE').gateway.apiUrl}/health/ready`, { method: 'GET' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ status: 'ready', database: true, redis: true });
  });
});
