/**
 * Each partner's last contact, as the read model's reload reads it (src/lookup/load.ts): the latest receipt of
 * every sender, from the sender index, whatever the number of receipts; a batch whose sender was never known
 * names no partner.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadSince } from '../../src/lookup/load.ts';
import { ReadModel } from '../../src/lookup/read-model.ts';
import { postgresStoreOfFile } from '../support/both-stores.ts';

const storeOfFile = postgresStoreOfFile();

const receipt = (sender: string | null, at: string) =>
  storeOfFile().query(
    `INSERT INTO inbound_receipt (receipt_id, sender, received_at, record_count, accepted_count, receipt_jws)
     VALUES ($1, $2, $3, 0, 0, 'x.y.z')`,
    [randomUUID(), sender, at],
  );

describe("partners' last contact", () => {
  it('is the latest receipt of each sender', async () => {
    const store = storeOfFile();
    const model = new ReadModel();
    await loadSince(store, model, 0);
    expect(model.lastReceivedFrom('CL')).toBeUndefined();

    await receipt('CL', '2026-01-01T10:00:00Z');
    await receipt('CL', '2026-01-03T10:00:00Z');
    await receipt('CL', '2026-01-02T10:00:00Z');
    await receipt(null, '2026-02-01T10:00:00Z');
    await receipt('AR', '2026-01-05T10:00:00Z');
    await receipt('PE', '2026-01-04T10:00:00Z');
    await loadSince(store, model, 0);
    expect(model.lastReceivedFrom('AR')).toBe(Date.parse('2026-01-05T10:00:00Z'));
    expect(model.lastReceivedFrom('CL')).toBe(Date.parse('2026-01-03T10:00:00Z'));
    expect(model.lastReceivedFrom('PE')).toBe(Date.parse('2026-01-04T10:00:00Z'));
  }, 60_000);
});
