/**
 * Tampering with the audit trail: for every kind of stored row (each column of audit_log, a deleted or
 * inserted entry, each evidence table), a change made behind the gateway's back breaks verification at that
 * row. Each change is made in a transaction that is rolled back, so every case starts from the intact store.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordDigest } from '../../src/crypto/digest.ts';
import { auditRows, forgeEntry, verifyTampered } from '../support/audit.ts';
import { type AuditExchange, issueSummary, makeAuditExchange } from '../support/audit-exchange.ts';
import type { Exchange } from '../support/delivery.ts';

let ex: Exchange;
let aeo: AuditExchange['aeo'];
beforeAll(async () => {
  ({ ex, aeo } = await makeAuditExchange());
  await issueSummary(ex);
}, 120_000);
afterAll(() => ex?.close());

describe('tampering is found and named', () => {
  const middle = async () => {
    const rows = await auditRows(ex.store('PE'));
    // A records-published entry: it has a detail, and entries after it.
    const row = rows.find((r) => r.kind === 'records-published' && r.seq > 1 && r.seq < rows.length);
    if (row === undefined) throw new Error('no records-published entry in the middle of the chain');
    return row;
  };

  it.each([
    ['kind', "UPDATE audit_log SET kind = 'admin-action' WHERE seq = $1"],
    ['actor', "UPDATE audit_log SET actor = actor || 'x' WHERE seq = $1"],
    ['subject', "UPDATE audit_log SET subject = subject || 'x' WHERE seq = $1"],
    ['digest', 'UPDATE audit_log SET digest = reverse(digest) WHERE seq = $1'],
    ['detail', `UPDATE audit_log SET detail = detail || '{"count": 99}' WHERE seq = $1`],
    ['prev_hash', 'UPDATE audit_log SET prev_hash = reverse(prev_hash) WHERE seq = $1'],
    ['hash', 'UPDATE audit_log SET hash = reverse(hash) WHERE seq = $1'],
    ['at', "UPDATE audit_log SET at = at + interval '1 microsecond' WHERE seq = $1"],
    ['deleted row', 'DELETE FROM audit_log WHERE seq = $1'],
  ])('audit_log %s altered', async (_what, statement) => {
    const target = await middle();
    const result = await verifyTampered(ex.store('PE'), (tx) => tx.query(statement, [target.seq]));
    expect(result.intact).toBe(false);
    expect(result.broken).toMatchObject({ seq: target.seq, table: 'audit_log' });
  });

  it('an entry inserted at the end without the right hash', async () => {
    const result = await verifyTampered(ex.store('PE'), (tx) =>
      tx.query(
        `INSERT INTO audit_log (seq, at, kind, actor, subject, digest, prev_hash, hash)
         SELECT max(seq) + 1, now(), 'admin-action', 'x', 'x', 'x', max(hash), repeat('f', 64) FROM audit_log`,
      ),
    );
    const [last] = await ex.store('PE').query<{ n: string }>('SELECT max(seq)::text AS n FROM audit_log');
    expect(result.broken).toMatchObject({ seq: Number(last?.n) + 1, table: 'audit_log' });
  });

  it('an entry forged with a linking hash, for a receipt that does not exist', async () => {
    let forged = 0;
    const result = await verifyTampered(ex.store('PE'), async (tx) => {
      forged = await forgeEntry(tx, {
        kind: 'receipt-sent',
        actor: 'CL',
        subject: randomUUID(),
        digest: 'x',
      });
    });
    expect(result.broken).toMatchObject({ seq: forged, table: 'inbound_receipt' });
  });

  it('inbound_record.jws altered', async () => {
    const [row] = await ex
      .store('PE')
      .query<{ record_id: string }>('SELECT record_id::text FROM inbound_record WHERE aeo_id = $1', [aeo.c]);
    const result = await verifyTampered(ex.store('PE'), (tx) =>
      tx.query("UPDATE inbound_record SET jws = jws || 'A' WHERE record_id = $1", [row?.record_id]),
    );
    expect(result.broken).toMatchObject({ table: 'inbound_record', row: row?.record_id });
    expect(result.broken?.problem).toMatch(/JWS differs/);
  });

  it('inbound_record.jws and its digest altered together', async () => {
    const [row] = await ex
      .store('PE')
      .query<{ record_id: string; jws: string }>('SELECT record_id::text, jws FROM inbound_record LIMIT 1');
    const jws = `${row?.jws}A`;
    const result = await verifyTampered(ex.store('PE'), (tx) =>
      tx.query('UPDATE inbound_record SET jws = $2, jws_digest = $3 WHERE record_id = $1', [
        row?.record_id,
        jws,
        recordDigest(jws),
      ]),
    );
    expect(result.broken).toMatchObject({ table: 'inbound_record', row: row?.record_id });
    expect(result.broken?.problem).toMatch(/not in the receipt/);
  });

  it('inbound_receipt.receipt_jws altered, and a receipt inserted', async () => {
    const [row] = await ex
      .store('PE')
      .query<{ receipt_id: string }>('SELECT receipt_id::text FROM inbound_receipt LIMIT 1');
    const altered = await verifyTampered(ex.store('PE'), (tx) =>
      tx.query("UPDATE inbound_receipt SET receipt_jws = receipt_jws || 'A' WHERE receipt_id = $1", [
        row?.receipt_id,
      ]),
    );
    expect(altered.broken).toMatchObject({
      table: 'inbound_receipt',
      row: row?.receipt_id,
      kind: 'receipt-sent',
    });
    const id = randomUUID();
    const inserted = await verifyTampered(ex.store('PE'), (tx) =>
      tx.query(
        `INSERT INTO inbound_receipt (receipt_id, sender, received_at, record_count, accepted_count, receipt_jws)
         SELECT $1, sender, received_at, record_count, accepted_count, receipt_jws FROM inbound_receipt LIMIT 1`,
        [id],
      ),
    );
    expect(inserted.broken).toMatchObject({ table: 'inbound_receipt', row: id, seq: null });
  });

  it('home_record altered (a column, the digest) and inserted', async () => {
    const [row] = await ex
      .store('PE')
      .query<{ seq: string }>('SELECT seq::text FROM home_record WHERE aeo_id = $1 AND version = 2', [aeo.a]);
    const status = await verifyTampered(ex.store('PE'), (tx) =>
      tx.query("UPDATE home_record SET status = 'revoked' WHERE seq = $1", [row?.seq]),
    );
    expect(status.broken).toMatchObject({ table: 'home_record', row: row?.seq, kind: 'records-published' });
    const digest = await verifyTampered(ex.store('PE'), (tx) =>
      tx.query('UPDATE home_record SET digest = reverse(digest) WHERE seq = $1', [row?.seq]),
    );
    expect(digest.broken).toMatchObject({ table: 'home_record', row: `${row?.seq}-${row?.seq}` });
    const inserted = await verifyTampered(ex.store('PE'), (tx) =>
      tx.query(
        `INSERT INTO home_record (seq, record_id, aeo_id, version, status, programme, roles, jws, digest, created_at)
         SELECT seq + 1000, $1, aeo_id, version + 1000, status, programme, roles, jws, digest, created_at
           FROM home_record WHERE seq = $2`,
        [randomUUID(), row?.seq],
      ),
    );
    expect(inserted.broken).toMatchObject({
      table: 'home_record',
      row: String(Number(row?.seq) + 1000),
      seq: null,
    });
  });

  it('outbound_receipt altered, and one inserted', async () => {
    const [row] = await ex
      .store('PE')
      .query<{ receipt_id: string }>('SELECT receipt_id::text FROM outbound_receipt LIMIT 1');
    const altered = await verifyTampered(ex.store('PE'), (tx) =>
      tx.query("UPDATE outbound_receipt SET receipt_jws = receipt_jws || 'A' WHERE receipt_id = $1", [
        row?.receipt_id,
      ]),
    );
    expect(altered.broken).toMatchObject({
      table: 'outbound_receipt',
      row: row?.receipt_id,
      kind: 'receipt-received',
    });
    const id = randomUUID();
    const inserted = await verifyTampered(ex.store('PE'), (tx) =>
      tx.query(
        `INSERT INTO outbound_receipt (receipt_id, partner, received_at, receipt_jws)
         SELECT $1, partner, received_at, receipt_jws FROM outbound_receipt LIMIT 1`,
        [id],
      ),
    );
    expect(inserted.broken).toMatchObject({ table: 'outbound_receipt', row: id, seq: null });
  });

  it('a summary altered, issued and received', async () => {
    const out = await verifyTampered(ex.store('PE'), (tx) =>
      tx.query("UPDATE monitoring_summary_out SET jws = jws || 'A'"),
    );
    expect(out.broken).toMatchObject({ table: 'monitoring_summary_out', kind: 'summary-issued' });
    const received = await verifyTampered(ex.store('CL'), (tx) =>
      tx.query("UPDATE monitoring_summary_in SET jws = jws || 'A'"),
    );
    // The receipt of its batch is chained just before the summary: the first link it breaks is the receipt's.
    expect(received.broken).toMatchObject({ table: 'monitoring_summary_in', kind: 'receipt-sent' });
    expect(received.broken?.problem).toMatch(/digest differs from what the JWS states/);
  });

  it('a reconciliation report altered, inserted and deleted', async () => {
    const report = await ex.gw('PE').gateway.sync.reconcile('CL');
    const altered = await verifyTampered(ex.store('PE'), (tx) =>
      tx.query('UPDATE reconciliation SET in_sync = NOT in_sync WHERE id = $1', [report.id]),
    );
    expect(altered.broken).toMatchObject({ table: 'reconciliation', row: report.id, kind: 'reconciliation' });
    let inserted = '';
    const added = await verifyTampered(ex.store('PE'), async (tx) => {
      const [row] = await tx.query<{ id: string }>(
        `INSERT INTO reconciliation (partner, at, local_digest, local_count, in_sync)
         VALUES ('CL', now(), 'x', 0, true) RETURNING id::text`,
      );
      inserted = row?.id ?? '';
    });
    expect(added.broken).toMatchObject({ table: 'reconciliation', row: inserted, seq: null });
    const deleted = await verifyTampered(ex.store('PE'), (tx) =>
      tx.query('DELETE FROM reconciliation WHERE id = $1', [report.id]),
    );
    expect(deleted.broken).toMatchObject({ kind: 'reconciliation', subject: report.id });
    expect(deleted.broken?.problem).toMatch(/gone/);
  });

  it('an evidence row deleted leaves its entry without evidence', async () => {
    const [row] = await ex
      .store('PE')
      .query<{ receipt_id: string }>('SELECT receipt_id::text FROM outbound_receipt LIMIT 1');
    const result = await verifyTampered(ex.store('PE'), (tx) =>
      tx.query('DELETE FROM outbound_receipt WHERE receipt_id = $1', [row?.receipt_id]),
    );
    expect(result.broken).toMatchObject({ table: 'outbound_receipt', subject: row?.receipt_id });
    expect(result.broken?.problem).toMatch(/gone/);
  });
});
