/**
 * Which partners have rows to deliver (src/delivery/relay.ts) is asked on every relay pass and after every
 * committed publish. With an import's worth of open rows it must be answered by one index probe per configured
 * partner, not by reading every open row, or an import's cost grows with its square.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PARTNERS_WITH_OPEN_ROWS } from '../../src/delivery/relay.ts';
import type { Store } from '../../src/store/types.ts';
import { openTestStore } from '../support/gateway.ts';

let store: Store;
let dispose: () => Promise<void>;
const ROWS = 20_000;

beforeAll(async () => {
  ({ store, dispose } = await openTestStore('postgres'));
  await store.query(
    `INSERT INTO home_record (record_id, aeo_id, version, status, programme, roles, jws, digest, created_at)
     SELECT gen_random_uuid(), 'PE' || lpad(g::text, 10, '0'), 1, 'certified', 'AEO-F', '{}', 'x', 'd', now()
       FROM generate_series(1, $1::int) AS g`,
    [ROWS],
  );
  // CL has every record open, AR has every record delivered, US has none.
  await store.query(
    `INSERT INTO outbox (partner, record_seq, state, created_at)
     SELECT 'CL', seq, 'pending', now() FROM home_record
     UNION ALL SELECT 'AR', seq, 'delivered', now() FROM home_record`,
  );
  await store.query('ANALYZE outbox');
}, 60_000);

afterAll(() => dispose());

describe('partners with rows to deliver', () => {
  it('are the configured partners with pending or retrying rows, in the order given', async () => {
    await store.query(`UPDATE outbox SET state = 'retrying' WHERE partner = 'CL' AND record_seq % 2 = 0`);
    const rows = await store.query<{ partner: string }>(PARTNERS_WITH_OPEN_ROWS, [['US', 'AR', 'CL']]);
    expect(rows.map((r) => r.partner)).toEqual(['CL']);
    await store.query(`UPDATE outbox SET state = 'retrying' WHERE partner = 'AR' AND record_seq = 1`);
    const both = await store.query<{ partner: string }>(PARTNERS_WITH_OPEN_ROWS, [['US', 'AR', 'CL']]);
    expect(both.map((r) => r.partner)).toEqual(['AR', 'CL']);
    await store.query(`UPDATE outbox SET state = 'delivered' WHERE partner = 'AR'`);
  });

  it('are found by a probe of the partial index, not by reading the open rows', async () => {
    const [plan] = await store.query<{ 'QUERY PLAN': unknown }>(
      `EXPLAIN (ANALYZE, FORMAT JSON) ${PARTNERS_WITH_OPEN_ROWS}`,
      [['US', 'AR', 'CL']],
    );
    const text = JSON.stringify(plan?.['QUERY PLAN']);
    expect(text).toContain('outbox_open_partner');
    expect(text).not.toContain('Seq Scan');
    // Rows read from the index: at most one for each partner that has any, not the 20,000 open rows of CL.
    const actualRows = [...text.matchAll(/"Actual Rows":(\d+)/g)].map((m) => Number(m[1]));
    expect(Math.max(...actualRows)).toBeLessThanOrEqual(3);
  });
});
