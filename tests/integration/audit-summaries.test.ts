/**
 * Tampering with monitoring summaries, their receipts both ways and the history of MRA terms, and the first
 * broken link named when several rows are altered. PE issues a summary about CL's operators and pushes it;
 * CL keeps it with the receipt it signed; PE keeps CL's receipt. Each change is rolled back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeVerification, verifyAudit } from '../../src/audit/verify.ts';
import { brokenBy, TEST_PAGE, verifyTampered } from '../support/audit.ts';
import { type AuditExchange, issueSummary, makeAuditExchange } from '../support/audit-exchange.ts';
import { type Exchange, waitFor } from '../support/delivery.ts';
import { freshSigned } from '../support/records.ts';
import { sendSummaries } from '../support/summaries.ts';

let ex: Exchange;
let aeo: AuditExchange['aeo'];
let summaryId: string;
beforeAll(async () => {
  ({ ex, aeo } = await makeAuditExchange());
  await issueSummary(ex);
  summaryId = await waitFor('CL receipt kept at PE', async () => {
    const [row] = await ex
      .store('PE')
      .query<{ summary_id: string }>(
        'SELECT summary_id::text FROM monitoring_summary_out WHERE receipt_jws IS NOT NULL',
      );
    return row?.summary_id;
  });
}, 120_000);
afterAll(() => ex?.close());

describe('summaries received', () => {
  it('both sides verify intact before any change, summary receipts and MRA terms included', async () => {
    const pe = await verifyAudit(ex.store('PE'), TEST_PAGE);
    const cl = await verifyAudit(ex.store('CL'), TEST_PAGE);
    expect([pe.broken, cl.broken, pe.breaks, cl.breaks]).toEqual([undefined, undefined, 0, 0]);
    expect([pe.evidence.mraTerms, cl.evidence.mraTerms]).toEqual([1, 1]);
    expect([pe.evidence.summaries, cl.evidence.summaries, cl.evidence.summaryReceipts]).toEqual([1, 1, 1]);
  });

  it.each([
    ['figures', `figures = jsonb_set(figures, '{operators,recognised}', '999')`],
    ['issued_at', "issued_at = issued_at + interval '1 millisecond'"],
    ['revision', 'revision = revision + 1'],
    ['reporter', "reporter = 'XX'"],
    ['mra_id', "mra_id = mra_id || 'x'"],
    ['period_from', 'period_from = period_from + 1'],
    ['payload_sha256', 'payload_sha256 = reverse(payload_sha256)'],
    ['outcome', "outcome = 'superseded'"],
    ['received_at', "received_at = received_at + interval '1 second'"],
  ])('%s altered', async (column, set) => {
    const broken = await brokenBy(ex.store('CL'), (tx) =>
      tx.query(`UPDATE monitoring_summary_in SET ${set}`),
    );
    expect(broken).toMatchObject({ table: 'monitoring_summary_in', row: summaryId, kind: 'receipt-sent' });
    expect(broken.problem).toMatch(new RegExp(`^${column} differs`));
  });

  it('deleted: the receipt that accepted it misses it', async () => {
    const broken = await brokenBy(ex.store('CL'), (tx) => tx.query('DELETE FROM monitoring_summary_in'));
    expect(broken).toMatchObject({ table: 'monitoring_summary_in', row: summaryId, kind: 'receipt-sent' });
    expect(broken.problem).toMatch(/accepted this summary, and it is not held/);
    // The summary's own entry lost its row too.
    expect(broken.breaks).toBe(2);
  });

  it('the receipt we signed: columns altered, one inserted', async () => {
    const counts = await brokenBy(ex.store('CL'), (tx) =>
      tx.query('UPDATE monitoring_summary_receipt SET accepted_count = 0'),
    );
    expect(counts).toMatchObject({ table: 'monitoring_summary_receipt', kind: 'receipt-sent' });
    expect(counts.problem).toMatch(/^accepted_count differs/);
    const jws = await brokenBy(ex.store('CL'), (tx) =>
      tx.query("UPDATE monitoring_summary_receipt SET receipt_jws = receipt_jws || 'A'"),
    );
    expect(jws.problem).toMatch(/receipt_jws differs from the digest chained/);
    const inserted = await brokenBy(ex.store('CL'), (tx) =>
      tx.query(
        `INSERT INTO monitoring_summary_receipt (receipt_id, sender, received_at, summary_count, accepted_count,
           receipt_jws) SELECT gen_random_uuid(), sender, received_at, 0, 0, receipt_jws
           FROM monitoring_summary_receipt LIMIT 1`,
      ),
    );
    expect(inserted).toMatchObject({ table: 'monitoring_summary_receipt', seq: null });
  });

  it('a batch whose every summary is rejected is chained by its receipt', async () => {
    const sent = await sendSummaries(ex.gw('CL'), ['not.a-summary.at-all']);
    expect(sent.results.map((r) => r.outcome)).toEqual(['rejected']);
    const [entry] = await ex
      .store('CL')
      .query<{ detail: Record<string, unknown> }>(
        "SELECT detail FROM audit_log WHERE kind = 'receipt-sent' AND subject = $1",
        [sent.receipt.receiptId],
      );
    expect(entry?.detail).toEqual({ table: 'monitoring_summary_receipt' });
    expect((await verifyAudit(ex.store('CL'), TEST_PAGE)).broken).toBeUndefined();
    const deleted = await brokenBy(ex.store('CL'), (tx) =>
      tx.query('DELETE FROM monitoring_summary_receipt WHERE receipt_id = $1', [sent.receipt.receiptId]),
    );
    expect(deleted).toMatchObject({ table: 'monitoring_summary_receipt', subject: sent.receipt.receiptId });
    expect(deleted.problem).toMatch(/gone/);
  });
});

describe('summaries issued and the partner receipt kept with them', () => {
  it('the receipt is chained as received from the partner', async () => {
    const [entry] = await ex.store('PE').query<{ actor: string; detail: Record<string, unknown> }>(
      `SELECT a.actor, a.detail FROM audit_log a JOIN monitoring_summary_out o ON o.receipt_id::text = a.subject
          WHERE a.kind = 'receipt-received'`,
    );
    expect(entry).toEqual({ actor: 'CL', detail: { table: 'monitoring_summary_out', count: 1 } });
  });

  it.each([
    ['figures', `figures = jsonb_set(figures, '{operators,recognised}', '999')`, 'summary-issued'],
    ['period_to', 'period_to = period_to - 1', 'summary-issued'],
    ['subject', "subject = 'XX'", 'summary-issued'],
    ['revision', 'revision = revision + 5', 'summary-issued'],
    ['issued_at', "issued_at = issued_at - interval '1 day'", 'summary-issued'],
    ['payload_sha256', 'payload_sha256 = reverse(payload_sha256)', 'summary-issued'],
    ['receipt_jws', "receipt_jws = receipt_jws || 'A'", 'receipt-received'],
    ['delivered_at', 'delivered_at = NULL', 'receipt-received'],
    ['rejected_code', "rejected_code = 'SCHEMA_INVALID'", 'receipt-received'],
  ])('%s altered', async (column, set, kind) => {
    const broken = await brokenBy(ex.store('PE'), (tx) =>
      tx.query(`UPDATE monitoring_summary_out SET ${set}`),
    );
    expect(broken).toMatchObject({ table: 'monitoring_summary_out', kind });
    expect(broken.problem).toMatch(new RegExp(column));
  });

  it('the receipt removed from the summary leaves its entry without evidence', async () => {
    const broken = await brokenBy(ex.store('PE'), (tx) =>
      tx.query(
        'UPDATE monitoring_summary_out SET receipt_id = NULL, receipt_jws = NULL, delivered_at = NULL',
      ),
    );
    expect(broken).toMatchObject({ table: 'monitoring_summary_out', kind: 'receipt-received' });
    expect(broken.problem).toMatch(/gone/);
  });
});

describe('MRA terms', () => {
  it.each([
    ['terms', `terms = jsonb_set(terms, '{status}', '"suspended"')`],
    ['terms_sha256', 'terms_sha256 = reverse(terms_sha256)'],
  ])('%s altered', async (column, set) => {
    const broken = await brokenBy(ex.store('PE'), (tx) => tx.query(`UPDATE mra_terms SET ${set}`));
    expect(broken).toMatchObject({ table: 'mra_terms', kind: 'mra-amended' });
    expect(broken.problem).toMatch(new RegExp(`^${column} differs`));
  });

  it('a version inserted and one deleted', async () => {
    const inserted = await brokenBy(ex.store('PE'), (tx) =>
      tx.query(
        `INSERT INTO mra_terms (partner, since, terms, terms_sha256)
         SELECT partner, since + interval '1 day', terms, terms_sha256 FROM mra_terms LIMIT 1`,
      ),
    );
    expect(inserted).toMatchObject({ table: 'mra_terms', seq: null });
    const deleted = await brokenBy(ex.store('PE'), (tx) => tx.query('DELETE FROM mra_terms'));
    expect(deleted).toMatchObject({ table: 'mra_terms', kind: 'mra-amended', seq: 1 });
    expect(deleted.problem).toMatch(/gone/);
  });
});

describe('the first broken link', () => {
  it('of two alterations in different tables, the earlier in the chain is named, whatever the check order', async () => {
    // The published record's entry comes before the receipt of CL's record; inbound rows are checked first.
    const result = await verifyTampered(ex.store('PE'), async (tx) => {
      await tx.query(
        "UPDATE inbound_record SET received_at = received_at + interval '1 second' WHERE aeo_id = $1",
        [aeo.c],
      );
      await tx.query("UPDATE home_record SET status = 'revoked' WHERE aeo_id = $1 AND version = 1", [aeo.a]);
    });
    expect(result.broken).toMatchObject({ table: 'home_record', kind: 'records-published' });
    expect(result.breaks).toBe(2);
    expect(describeVerification(result)).toMatch(/^audit chain broken: home_record .*2 breaks found in all/);
    // The MRA terms come first of all (written at start), and are checked late.
    const terms = await verifyTampered(ex.store('PE'), async (tx) => {
      await tx.query("UPDATE inbound_receipt SET outcome_counts = '{}'");
      await tx.query('UPDATE mra_terms SET terms_sha256 = reverse(terms_sha256)');
    });
    expect(terms.broken).toMatchObject({ table: 'mra_terms', seq: 1 });
    expect(terms.breaks).toBeGreaterThanOrEqual(2);
  });

  it('of several rows of one table, the one with the lowest seq, not the lowest key', async () => {
    const signer = ex.admins.get('PE').config.home.signers[0];
    if (signer === undefined) throw new Error('PE has no signer');
    // Eight more receipts: their random ids are in seq order once in 8! cases, so a pair out of order exists.
    for (let i = 0; i < 8; i += 1) await ex.gw('CL').send((await freshSigned('PE', signer, 1)).jws);
    const receipts = await ex.store('CL').query<{ subject: string; seq: string }>(
      `SELECT subject, seq::text FROM audit_log WHERE kind = 'receipt-sent' AND detail IS NULL
          ORDER BY audit_log.seq`,
    );
    // x: entered the chain before y, and sorts after it by key.
    const x = receipts.find((r, i) => receipts.slice(i + 1).some((y) => y.subject < r.subject));
    const y = receipts.find((r) => x !== undefined && Number(r.seq) > Number(x.seq) && r.subject < x.subject);
    if (x === undefined || y === undefined) throw new Error('no two receipts out of key order');
    const result = await verifyTampered(ex.store('CL'), (tx) =>
      tx.query('UPDATE inbound_receipt SET record_count = record_count + 1 WHERE receipt_id IN ($1, $2)', [
        x.subject,
        y.subject,
      ]),
    );
    expect(result.broken).toMatchObject({ table: 'inbound_receipt', seq: Number(x.seq), row: x.subject });
    expect(result.breaks).toBe(2);
  }, 120_000);
});
