/**
 * The audit trail between two real gateways: an intact chain verifies and covers every kind of evidence,
 * admin actions are chained with who asked, and batches received in parallel still chain in commit order.
 * Tampering: audit-tamper.test.ts; retention: retention.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/audit/verify.ts';
import { auditRows, TEST_PAGE } from '../support/audit.ts';
import { type AuditExchange, issueSummary, makeAuditExchange } from '../support/audit-exchange.ts';
import { type Exchange, settledOutbox } from '../support/delivery.ts';
import { API_TOKENS, bearer, newAeoId } from '../support/exchange.ts';
import { httpRequest } from '../support/gateway.ts';
import { freshSigned } from '../support/records.ts';

let ex: Exchange;
let aeo: AuditExchange['aeo'];
beforeAll(async () => {
  ({ ex, aeo } = await makeAuditExchange());
}, 120_000);
afterAll(() => ex?.close());

describe('an intact chain', () => {
  it('verifies on both gateways, covering every kind of evidence row', async () => {
    const pe = await verifyAudit(ex.store('PE'), TEST_PAGE);
    expect(pe.broken).toBeUndefined();
    expect(pe.intact).toBe(true);
    expect(pe.evidence.homeRecords).toBe(3);
    expect(pe.evidence.inboundRecords).toBe(1);
    expect(pe.evidence.inboundReceipts).toBeGreaterThanOrEqual(1);
    expect(pe.evidence.outboundReceipts).toBeGreaterThanOrEqual(1);
    const kinds = new Set((await auditRows(ex.store('PE'))).map((r) => r.kind));
    expect([...kinds].sort()).toEqual([
      'admin-action',
      'mra-amended',
      'receipt-received',
      'receipt-sent',
      'records-published',
    ]);
    const cl = await verifyAudit(ex.store('CL'), TEST_PAGE);
    expect(cl.broken).toBeUndefined();
    expect(cl.evidence.inboundRecords).toBe(3);
  });

  it('chains each decision with the API client that sent it and what it did', async () => {
    const actions = await ex
      .store('PE')
      .query<{ actor: string; detail: Record<string, unknown> }>(
        "SELECT actor, detail FROM audit_log WHERE kind = 'admin-action' ORDER BY seq",
      );
    expect(actions.map((a) => [a.actor, a.detail.decision, a.detail.aeoId, a.detail.version])).toEqual([
      ['national-aeo', 'certify', aeo.a, 1],
      ['national-aeo', 'suspend', aeo.a, 2],
      ['national-aeo', 'certify', aeo.b, 1],
    ]);
  });

  it('chains a summary issued at one gateway and received at the other', async () => {
    await issueSummary(ex);
    const pe = await verifyAudit(ex.store('PE'), TEST_PAGE);
    const cl = await verifyAudit(ex.store('CL'), TEST_PAGE);
    expect([pe.broken, cl.broken]).toEqual([undefined, undefined]);
    expect([pe.evidence.summaries, cl.evidence.summaries]).toEqual([1, 1]);
  });
});

describe('admin actions', () => {
  it('chains a reconciliation asked through the API, and a register import from start to finish', async () => {
    const api = ex.gw('PE').gateway.apiUrl;
    const reconciled = await httpRequest(`${api}/api/v1/partners/CL/reconcile`, {
      method: 'POST',
      headers: bearer(API_TOKENS.operator),
    });
    expect(reconciled.status).toBe(200);
    const report = JSON.parse(reconciled.text) as { id: string; inSync: boolean };
    const imported = newAeoId('PE');
    const line = JSON.stringify({
      decisionId: randomUUID(),
      aeoId: imported,
      decision: 'certify',
      consent: true,
      programme: 'AEO-F',
      certifiedOn: '2025-03-01',
      operator: {
        identifiers: [{ scheme: 'TIN', value: `${imported}T` }],
        name: `Operator ${imported}`,
        address: { street: 'Jr. Lampa 100', city: 'Lima', country: 'PE' },
        roles: ['exporter'],
      },
    });
    const run = await httpRequest(`${api}/api/v1/register/imports`, {
      method: 'POST',
      headers: { ...bearer(API_TOKENS.operator), 'content-type': 'application/x-ndjson' },
      body: `${line}\n`,
    });
    expect(run.status).toBe(201);
    const importId = (JSON.parse(run.text) as { importId: string }).importId;
    await settledOutbox(ex.store('PE'), 'CL', 4);

    const entries = await ex
      .store('PE')
      .query<{ kind: string; actor: string; subject: string; detail: Record<string, unknown> }>(
        "SELECT kind, actor, subject, detail FROM audit_log WHERE kind IN ('admin-action', 'reconciliation') ORDER BY audit_log.seq",
      );
    expect(entries.find((e) => e.kind === 'reconciliation')).toMatchObject({
      subject: report.id,
      detail: { partner: 'CL', inSync: report.inSync },
    });
    const actions = entries.filter((e) => e.subject === importId || e.detail.action === 'partner-reconcile');
    expect(actions.map((e) => [e.actor, e.detail.action])).toEqual([
      ['national-aeo', 'partner-reconcile'],
      ['national-aeo', 'register-import-start'],
      ['national-aeo', 'register-import-finish'],
    ]);
    expect(actions[2]?.detail).toMatchObject({ applied: 1, published: 1, rejected: 0 });
    const verified = await verifyAudit(ex.store('PE'), TEST_PAGE);
    expect(verified.broken).toBeUndefined();
    expect(verified.evidence.homeRecords).toBe(4);
  });
});

describe('concurrency', () => {
  it('batches received in parallel chain in commit order, one entry each', async () => {
    const signer = ex.admins.get('PE').config.home.signers[0];
    if (signer === undefined) throw new Error('PE has no signer');
    const before = await verifyAudit(ex.store('CL'));
    const batches = await Promise.all(Array.from({ length: 16 }, () => freshSigned('PE', signer, 3)));
    const sent = await Promise.all(batches.map((b) => ex.gw('CL').send(b.jws)));
    for (const s of sent)
      expect(s.results.map((r) => r.outcome)).toEqual(['accepted', 'accepted', 'accepted']);
    const after = await verifyAudit(ex.store('CL'), TEST_PAGE);
    expect(after.broken).toBeUndefined();
    expect(after.entries).toBe(before.entries + 16);
    const chained = await ex
      .store('CL')
      .query<{ subject: string }>("SELECT subject FROM audit_log WHERE kind = 'receipt-sent'");
    const subjects = new Set(chained.map((r) => r.subject));
    for (const s of sent) expect(subjects.has(s.receipt.receiptId)).toBe(true);
  }, 120_000);
});
