/**
 * A gateway upgraded to the audit trail: the evidence it already held (listed by migration 012) is anchored
 * by one baseline entry per table at the first start, verifies from then on, and can no more be altered or
 * added to than evidence chained entry by entry.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anchorBaseline } from '../../src/audit/baseline.ts';
import { verifyAudit } from '../../src/audit/verify.ts';
import { recordDigest } from '../../src/crypto/digest.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/types.ts';
import { TEST_PAGE, verifyTampered } from '../support/audit.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

let db: TestDatabase;
let store: Store;
const receipt = randomUUID();
const recordId = randomUUID();

const segment = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/** Rows as an earlier version of the gateway left them, and their keys as migration 012 lists them. */
async function olderEvidence(): Promise<void> {
  const jws = `${segment({ alg: 'ES256' })}.${segment({ recordId, operator: { aeoId: 'PE1' }, version: 1, status: 'certified' })}.sig`;
  await store.query(
    `INSERT INTO home_record (seq, record_id, aeo_id, version, status, programme, roles, jws, digest, created_at)
     VALUES (1, $1, 'PE1', 1, 'certified', 'AEO-F', '{exporter}', $2, $3, now())`,
    [recordId, jws, recordDigest(jws)],
  );
  // A receipt as an earlier version signed it: its columns say what it says (outcome_counts came later).
  const receivedAt = '2026-01-15T10:00:00.123Z';
  const signed = {
    schema: 'aeo-receipt/1',
    receiptId: receipt,
    sender: 'CL',
    receiver: 'PE',
    receivedAt,
    results: [],
  };
  await store.query(
    `INSERT INTO inbound_receipt (receipt_id, sender, received_at, record_count, accepted_count, receipt_jws)
     VALUES ($1, 'CL', $3, 0, 0, $2)`,
    [receipt, `${segment({ alg: 'ES256' })}.${segment(signed)}.sig`, receivedAt],
  );
  await store.query(
    `INSERT INTO audit_baseline (tbl, key) VALUES ('home_record', '1'), ('inbound_receipt', $1)`,
    [receipt],
  );
}

beforeAll(async () => {
  db = await createTestDatabase();
  store = await openStore({ kind: 'postgres', databaseUrl: db.url });
  await olderEvidence();
});
afterAll(async () => {
  await store?.close();
  await db?.drop();
});

describe('evidence from before the audit trail', () => {
  it('is reported unanchored until the first start, then anchored once and verified', async () => {
    const before = await verifyAudit(store, TEST_PAGE);
    expect(before.broken).toMatchObject({ kind: 'baseline', seq: null });
    expect(await Promise.all([anchorBaseline(store), anchorBaseline(store)])).toEqual(
      expect.arrayContaining([2]),
    );
    expect(await anchorBaseline(store)).toBe(0);
    const after = await verifyAudit(store, TEST_PAGE);
    expect(after.broken).toBeUndefined();
    expect(after.entries).toBe(2);
    expect(after.evidence).toMatchObject({ homeRecords: 0, inboundReceipts: 1 });
  });

  it('finds a baseline row altered, and a row inserted beside it', async () => {
    const altered = await verifyTampered(store, (tx) =>
      tx.query("UPDATE inbound_receipt SET receipt_jws = receipt_jws || 'A' WHERE receipt_id = $1", [
        receipt,
      ]),
    );
    expect(altered.broken).toMatchObject({ kind: 'baseline', subject: 'inbound_receipt' });
    const digest = await verifyTampered(store, (tx) =>
      tx.query('UPDATE home_record SET digest = reverse(digest) WHERE seq = 1'),
    );
    expect(digest.broken).toMatchObject({ kind: 'baseline', subject: 'home_record' });
    const jws = await verifyTampered(store, (tx) =>
      tx.query("UPDATE home_record SET jws = jws || 'A' WHERE seq = 1"),
    );
    expect(jws.broken).toMatchObject({ kind: 'baseline', table: 'home_record', row: '1' });
    const inserted = await verifyTampered(store, (tx) =>
      tx.query(
        `INSERT INTO home_record (seq, record_id, aeo_id, version, status, programme, roles, jws, digest, created_at)
         SELECT 2, $1, aeo_id, 2, status, programme, roles, jws, digest, created_at FROM home_record WHERE seq = 1`,
        [randomUUID()],
      ),
    );
    expect(inserted.broken).toMatchObject({ table: 'home_record', row: '2', seq: null });
    const listed = await verifyTampered(store, (tx) =>
      tx.query("INSERT INTO audit_baseline (tbl, key) VALUES ('inbound_receipt', $1)", [randomUUID()]),
    );
    expect(listed.broken).toMatchObject({ kind: 'baseline', subject: 'inbound_receipt' });
  });
});
