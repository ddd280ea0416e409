/**
 * The audit trail and retention on the embedded store too: batches chained, a withdrawn operator past the
 * period redacted, and the chain verified by the digests kept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/audit/verify.ts';
import { runRetention } from '../../src/retention/retention.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { composeTestGateway, type InjectedGateway } from '../support/inject.ts';
import { freshRecord, nextVersion, signAll } from '../support/records.ts';

let admins: TestAdmins;
let gw: InjectedGateway;

beforeAll(async () => {
  admins = makeAdmins(['EU', 'PE']);
  gw = await composeTestGateway(admins.get('EU').config, 'embedded');
}, 120_000);
afterAll(async () => {
  await gw?.close();
  admins?.cleanup();
});

describe('audit trail on the embedded store', () => {
  it('chains each batch, redacts a withdrawn operator past the period, and verifies', async () => {
    const signer = admins.get('PE').config.home.signers[0];
    if (signer === undefined) throw new Error('PE has no signer');
    const gone = freshRecord('PE');
    const withdrawn = nextVersion(gone, 2, { status: 'withdrawn', statusSince: '2025-06-01' });
    const kept = freshRecord('PE');
    await gw.send(await signAll([gone, kept], signer));
    await gw.send(await signAll([withdrawn], signer));
    const counts = await runRetention(gw.store, { withdrawnPersonalDataDays: 365 });
    expect(counts).toMatchObject({ foreignOperators: 1, foreignRecords: 2 });
    const verified = await verifyAudit(gw.store, 2);
    expect(verified.broken).toBeUndefined();
    // The MRA terms chained at start, two batches, one retention run.
    expect(verified.entries).toBe(4);
    expect(verified.evidence).toMatchObject({ inboundReceipts: 2, inboundRecords: 3, redacted: 2 });
    const altered = await gw.store.transaction(async (tx) => {
      await tx.query("UPDATE inbound_record SET jws = jws || 'A' WHERE record_id = $1", [kept.recordId]);
      const result = await verifyAudit(tx, 2);
      await tx.query('UPDATE inbound_record SET jws = left(jws, -1) WHERE record_id = $1', [kept.recordId]);
      return result;
    });
    expect(altered.broken).toMatchObject({ table: 'inbound_record', row: kept.recordId });
    expect((await verifyAudit(gw.store)).broken).toBeUndefined();
  });
});
