/**
 * Tampering with the columns of the records exchange that reports count and lookups read: every column of
 * inbound_record derived from the signed record or its receipt, the counts of inbound_receipt, the current
 * state of an operator, and rows deleted. Each change is rolled back; verification must fail naming the row.
 * CL holds PE's records a v1, a v2 and b v1, each from a batch of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/audit/verify.ts';
import { brokenBy, jwsPayload, TEST_PAGE, verifyTampered } from '../support/audit.ts';
import { type AuditExchange, makeAuditExchange } from '../support/audit-exchange.ts';
import type { Exchange } from '../support/delivery.ts';

let ex: Exchange;
let aeo: AuditExchange['aeo'];
/** At CL: the record a v1, and the receipts of a v1 and b v1. */
let v1: { record_id: string; receipt_id: string; jws: string };
let laterReceipt: string;
beforeAll(async () => {
  ({ ex, aeo } = await makeAuditExchange());
  const [row] = await ex
    .store('CL')
    .query<typeof v1>(
      'SELECT record_id::text, receipt_id::text, jws FROM inbound_record WHERE aeo_id = $1 AND version = 1',
      [aeo.a],
    );
  const [b] = await ex
    .store('CL')
    .query<{ receipt_id: string }>('SELECT receipt_id::text FROM inbound_record WHERE aeo_id = $1', [aeo.b]);
  if (row === undefined || b === undefined) throw new Error('CL does not hold the records');
  v1 = row;
  laterReceipt = b.receipt_id;
}, 120_000);
afterAll(() => ex?.close());

describe('inbound_record against its JWS and its receipt', () => {
  it('the exchange verifies intact before any change', async () => {
    const result = await verifyAudit(ex.store('CL'), TEST_PAGE);
    expect(result.broken).toBeUndefined();
    expect(result.breaks).toBe(0);
    expect(result.evidence.operators).toBe(2);
  });

  it.each([
    ['issuer', "issuer = 'CL'"],
    ['aeo_id', "aeo_id = aeo_id || 'X'"],
    ['version', 'version = version + 100'],
    ['payload_sha256', 'payload_sha256 = reverse(payload_sha256)'],
    ['signer_fingerprint', 'signer_fingerprint = reverse(signer_fingerprint)'],
    ['issued_at', "issued_at = issued_at + interval '1 second'"],
    ['received_at', "received_at = received_at + interval '1 microsecond'"],
    ['outcome', "outcome = 'superseded'"],
  ])('%s altered', async (column, set) => {
    const broken = await brokenBy(ex.store('CL'), (tx) =>
      tx.query(`UPDATE inbound_record SET ${set} WHERE record_id = $1`, [v1.record_id]),
    );
    expect(broken).toMatchObject({ table: 'inbound_record', row: v1.record_id, kind: 'receipt-sent' });
    expect(broken.problem).toMatch(new RegExp(`^${column} differs`));
  });

  it('receipt_id moved to a later receipt: the receipt that accepted it no longer holds it', async () => {
    const broken = await brokenBy(ex.store('CL'), (tx) =>
      tx.query('UPDATE inbound_record SET receipt_id = $2 WHERE record_id = $1', [
        v1.record_id,
        laterReceipt,
      ]),
    );
    expect(broken).toMatchObject({ table: 'inbound_record', row: v1.record_id, subject: v1.receipt_id });
    expect(broken.problem).toMatch(/not held with that digest: deleted/);
    expect(broken.breaks).toBe(2);
  });

  it('a record deleted is missed by the receipt that accepted it', async () => {
    const broken = await brokenBy(ex.store('CL'), (tx) =>
      tx.query('DELETE FROM inbound_record WHERE record_id = $1', [v1.record_id]),
    );
    expect(broken).toMatchObject({ table: 'inbound_record', row: v1.record_id, subject: v1.receipt_id });
    expect(broken.problem).toMatch(/accepted this record, and it is not held/);
  });
});

describe('inbound_receipt against the receipt it keeps', () => {
  it.each([
    ['outcome_counts', `outcome_counts = '{"accepted": 5, "duplicate": 0, "superseded": 0, "rejected": {}}'`],
    ['outcome_counts', 'outcome_counts = NULL'],
    ['received_at', "received_at = received_at - interval '1 hour'"],
    ['record_count', 'record_count = record_count + 1'],
    ['accepted_count', 'accepted_count = 0'],
    ['sender', "sender = 'XX'"],
  ])('%s altered (%s)', async (column, set) => {
    const broken = await brokenBy(ex.store('CL'), (tx) =>
      tx.query(`UPDATE inbound_receipt SET ${set} WHERE receipt_id = $1`, [v1.receipt_id]),
    );
    expect(broken).toMatchObject({ table: 'inbound_receipt', row: v1.receipt_id, kind: 'receipt-sent' });
    // The sender is also the entry's actor: that comparison comes first.
    const problem =
      column === 'sender' ? "^the entry's actor PE differs from the row's XX" : `^${column} differs`;
    expect(broken.problem).toMatch(new RegExp(problem));
  });
});

describe('operator_state against the record it names', () => {
  const key = () => `PE/${aeo.a}`;
  it.each([
    [
      'version',
      `version = 1, record_id = (SELECT record_id FROM inbound_record r
       WHERE r.aeo_id = operator_state.aeo_id AND r.version = 1)`,
    ],
    ['version', 'version = 7'],
    ['status', "status = 'certified'"],
    ['status_since', 'status_since = status_since - 1'],
    ['roles', "roles = '{importer}'"],
    ['name', "name = 'Someone Else'"],
    ['payload', `payload = jsonb_set(payload, '{programme}', '"AEO-S"')`],
  ])('%s altered', async (column, set) => {
    const broken = await brokenBy(ex.store('CL'), (tx) =>
      tx.query(`UPDATE operator_state SET ${set} WHERE aeo_id = $1`, [aeo.a]),
    );
    expect(broken).toMatchObject({ table: 'operator_state', row: key(), kind: 'receipt-sent' });
    expect(broken.problem).toMatch(new RegExp(`\\b${column}\\b`));
  });

  it('deleted', async () => {
    const broken = await brokenBy(ex.store('CL'), (tx) =>
      tx.query('DELETE FROM operator_state WHERE aeo_id = $1', [aeo.a]),
    );
    expect(broken).toMatchObject({ table: 'operator_state', row: key() });
    expect(broken.problem).toMatch(/no current state: deleted/);
  });
});

describe('a redacted record verifies from what is kept', () => {
  /** Redacts a v1 as retention does: no JWS, the payload without name, address and identifiers kept. */
  const redact = async (tx: Parameters<Parameters<typeof verifyTampered>[1]>[0]) => {
    const payload = jwsPayload(v1.jws);
    const {
      name: _n,
      address: _a,
      identifiers: _i,
      ...operator
    } = payload.operator as Record<string, unknown>;
    await tx.query(
      'UPDATE inbound_record SET jws = NULL, redacted_at = now(), kept_payload = $2 WHERE record_id = $1',
      [v1.record_id, JSON.stringify({ ...payload, operator })],
    );
  };

  it('intact once redacted, and a column altered after it is still found', async () => {
    const intact = await verifyTampered(ex.store('CL'), redact);
    expect(intact.broken).toBeUndefined();
    expect(intact.evidence.redacted).toBe(1);
    for (const set of [
      "outcome = 'superseded'",
      "received_at = received_at + interval '1 second'",
      'version = 9',
    ]) {
      const broken = await brokenBy(ex.store('CL'), async (tx) => {
        await redact(tx);
        await tx.query(`UPDATE inbound_record SET ${set} WHERE record_id = $1`, [v1.record_id]);
      });
      expect(broken).toMatchObject({ table: 'inbound_record', row: v1.record_id });
    }
  });
});
