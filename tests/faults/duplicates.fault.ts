/**
 * docs/threats.md 64 for real: the same batch sent twice at the same moment, twenty times over, to CL's gateway
 * on PostgreSQL. One stored copy; two receipts that agree on every record and digest, one saying `accepted`
 * and the other `duplicate`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Receipt } from '../../src/protocol/receipt.ts';
import type { Exchange } from '../support/delivery.ts';
import { makeFaultExchange } from '../support/fault-world.ts';
import { decodePayload, postTo } from '../support/gateway.ts';
import { freshSigned } from '../support/records.ts';
import { pooled, report } from './report.ts';

let ex: Exchange;

beforeAll(async () => {
  ex = await makeFaultExchange();
  await ex.start('CL');
}, 180_000);
afterAll(async () => {
  await ex?.close();
});

describe('twin batches', () => {
  it('G64 two identical batches at the same moment: one stored copy, two consistent receipts', async () => {
    const signer = ex.admins.get('PE').config.home.signers[0]!;
    const pairs = await Promise.all(Array.from({ length: 20 }, () => freshSigned('PE', signer, 5)));
    const counts = { receipts: 0, accepted: 0, duplicate: 0, inconsistent: 0 };
    await pooled(pairs.length, 2, async (i) => {
      const body = JSON.stringify({ records: pairs[i]!.jws });
      const both = await Promise.all([0, 1].map(() => postTo(`${ex.gw('CL').url}/mra/v1/records`, body)));
      const receipts = both.map((res) => {
        expect(res.status, res.text.slice(0, 200)).toBe(200);
        counts.receipts += 1;
        return decodePayload((JSON.parse(res.text) as { receipt: string }).receipt) as Receipt;
      });
      for (const [k, rec] of pairs[i]!.records.entries()) {
        const [x, y] = receipts.map((r) => r.results[k]!);
        if (x!.recordId !== rec.recordId || y!.recordId !== rec.recordId || x!.digest !== y!.digest)
          counts.inconsistent += 1;
        const outcomes = [x!.outcome, y!.outcome].sort();
        if (outcomes.join() === 'accepted,duplicate') {
          counts.accepted += 1;
          counts.duplicate += 1;
        } else counts.inconsistent += 1;
      }
    });
    const ids = pairs.flatMap((p) => p.records.map((r) => r.recordId));
    const stored = await ex.store('CL').query<{ record_id: string; n: string }>(
      `SELECT record_id::text, count(*)::text AS n FROM inbound_record
        WHERE record_id::text IN (SELECT jsonb_array_elements_text($1::jsonb)) GROUP BY record_id`,
      [JSON.stringify(ids)],
    );
    expect(counts.inconsistent).toBe(0);
    expect(stored.length).toBe(ids.length);
    expect(stored.every((x) => x.n === '1')).toBe(true);
    report(
      'G64',
      `${pairs.length} pairs of identical batches sent at once: ${counts.receipts} receipts, ${counts.accepted} records ` +
        `accepted once and ${counts.duplicate} duplicate in the twin receipt, 0 inconsistent; ${stored.length} of ${ids.length} stored once`,
    );
  });
});
