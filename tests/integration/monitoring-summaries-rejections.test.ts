/**
 * Receiving monitoring summaries at CL over real HTTP, on PostgreSQL and on the embedded store, each rule with its code: summaries signed
 * with PE's and BO's real certificates, judged by the records' verification path under the summary's `typ`,
 * then by schema, by who may report what about whom, and against what CL holds. A rejected summary leaves no
 * row; every answer is a signed receipt whose results carry `summaryId`, never `recordId`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Signer } from '../../src/config/types.ts';
import type { MonitoringSummary } from '../../src/protocol/monitoring-summary.ts';
import { signRecord } from '../../src/publishing/sign-record.ts';
import type { TestAdmins } from '../support/admins.ts';
import { makeLinkedAdmins } from '../support/exchange.ts';
import {
  expectProblem,
  outcomes,
  STORE_KINDS,
  startTestGateway,
  type TestGateway,
} from '../support/gateway.ts';
import { freshRecord } from '../support/records.ts';
import {
  buildSummary,
  daysAgo,
  heldFrom,
  postSummaries,
  sendSummaries,
  signAsSummary,
} from '../support/summaries.ts';

let admins: TestAdmins;
let cl: TestGateway;
let pe: Signer;
let bo: Signer;
let peMra: string;

/** A year of its own per test, so that no two tests share a period. */
let year = 1990;
const period = () => {
  year += 1;
  return { from: `${year}-03-01`, to: `${year}-03-31` };
};

const fromPe = (overrides: Partial<MonitoringSummary> = {}) =>
  buildSummary({ reporter: 'PE', subject: 'CL', mraId: peMra }, { period: period(), ...overrides });

const rowCount = async () =>
  Number(
    (await cl.store.query<{ n: string }>('SELECT count(*)::text AS n FROM monitoring_summary_in'))[0]?.n,
  );

/** Sends the named summaries in one batch; asserts each is rejected with `code` and none was kept. */
async function expectRejected(variants: Record<string, string>, code: string): Promise<void> {
  const before = await rowCount();
  const { results } = await sendSummaries(cl, Object.values(variants));
  const names = Object.keys(variants);
  expect(Object.fromEntries(names.map((n, i) => [n, outcomes([results[i]!])[0]]))).toEqual(
    Object.fromEntries(names.map((n) => [n, `rejected:${code}`])),
  );
  for (const r of results) expect(r).not.toHaveProperty('recordId');
  expect(await rowCount()).toBe(before);
}

beforeAll(async () => {
  admins = await makeLinkedAdmins(['PE', 'CL', 'BO'], {
    edit: (_id, raw) => {
      raw.monitoring = { summaries: { auto: false } };
    },
  });
  pe = admins.get('PE').config.home.signers[0]!;
  bo = admins.get('BO').config.home.signers[0]!;
  peMra = admins.get('CL').config.partners.find((p) => p.adminId === 'PE')!.mra.id;
});
afterAll(() => {
  admins?.cleanup();
});

describe.each(STORE_KINDS)('POST /mra/v1/monitoring on the %s store', (kind) => {
  beforeAll(async () => {
    cl = await startTestGateway(admins.get('CL').config, kind);
  });
  afterAll(async () => {
    await cl?.close();
  });

  it('accepts a well-formed summary, with a 0 standing for a figure that is zero', async () => {
    const summary = fromPe({ figures: { lookups: { total: 0, recognised: 0, notRecognised: {} } } });
    const { receipt, results } = await sendSummaries(cl, [await signAsSummary(summary, pe)]);
    expect(receipt).toMatchObject({ sender: 'PE', receiver: 'CL' });
    expect(results).toEqual([
      { index: 0, summaryId: summary.summaryId, digest: expect.any(String), outcome: 'accepted' },
    ]);
    const held = (await heldFrom(cl.store, 'PE')).find((h) => h.summary_id === summary.summaryId);
    expect(held).toMatchObject({ outcome: 'accepted', receipt_id: receipt.receiptId });
  });

  it('refuses a signature that does not verify', async () => {
    const jws = await signAsSummary(fromPe(), pe);
    const [h, p, s] = jws.split('.');
    const flipped = `${s![0] === 'A' ? 'B' : 'A'}${s!.slice(1)}`;
    await expectRejected({ flipped: `${h}.${p}.${flipped}` }, 'SIGNATURE_INVALID');
  });

  it('refuses a record, or anything signed under another typ', async () => {
    await expectRejected({ record: await signRecord(freshRecord('PE'), pe) }, 'HEADER_INVALID');
  });

  it('refuses a summary from the wrong partner', async () => {
    // Without mTLS the batch's first verified signer is its sender: BO's own summary in PE's batch is foreign.
    const good = await signAsSummary(fromPe(), pe);
    const boMra = admins.get('CL').config.partners.find((p) => p.adminId === 'BO')!.mra.id;
    const foreign = await signAsSummary(
      buildSummary({ reporter: 'BO', subject: 'CL', mraId: boMra }, { period: period() }),
      bo,
    );
    const { results } = await sendSummaries(cl, [good, foreign]);
    expect(outcomes(results)).toEqual(['accepted', 'rejected:ISSUER_MISMATCH']);
    // A reporter that is not whoever signed it.
    await expectRejected(
      { claimsBo: await signAsSummary(fromPe({ reporter: 'BO' }), pe) },
      'ISSUER_MISMATCH',
    );
  });

  it('refuses a summary about a third administration', async () => {
    await expectRejected({ aboutBo: await signAsSummary(fromPe({ subject: 'BO' }), pe) }, 'SUBJECT_MISMATCH');
  });

  it('refuses an MRA other than the one configured with the partner, compared case-sensitively', async () => {
    await expectRejected(
      {
        other: await signAsSummary(fromPe({ mraId: 'PE-XX-2020' }), pe),
        lowerCase: await signAsSummary(fromPe({ mraId: peMra.toLowerCase() }), pe),
      },
      'MRA_UNKNOWN',
    );
  });

  it('refuses what breaks the schema: extra members, a broken period, null for an unknown figure', async () => {
    const base = fromPe();
    const year1 = period();
    await expectRejected(
      {
        extraRoot: await signAsSummary({ ...base, note: 'x' }, pe),
        extraFigure: await signAsSummary({ ...base, figures: { lookups: { total: 1, median: 1 } } }, pe),
        unknownCode: await signAsSummary(
          { ...base, figures: { records: { rejected: { NOT_A_CODE: 1 } } } },
          pe,
        ),
        badRole: await signAsSummary({ ...base, figures: { operators: { byRole: { pilot: 1 } } } }, pe),
        nullFigure: await signAsSummary({ ...base, figures: { lookups: { total: null } } }, pe),
        negative: await signAsSummary({ ...base, figures: { lookups: { total: -1 } } }, pe),
        fraction: await signAsSummary({ ...base, figures: { lookups: { total: 1.5 } } }, pe),
        fromAfterTo: await signAsSummary({ ...base, period: { from: year1.to, to: year1.from } }, pe),
        tooLong: await signAsSummary({ ...base, period: { from: '2023-01-01', to: '2024-01-02' } }, pe),
        notEnded: await signAsSummary({ ...base, period: { from: daysAgo(10), to: daysAgo(0) } }, pe),
        badDate: await signAsSummary({ ...base, period: { from: '2025-02-30', to: '2025-03-01' } }, pe),
        revisionZero: await signAsSummary({ ...base, revision: 0 }, pe),
        noFigures: await signAsSummary({ ...base, figures: undefined }, pe),
      },
      'SCHEMA_INVALID',
    );
  });

  it('refuses a summary issued more than 5 minutes ahead of the receiver', async () => {
    const issuedAt = new Date(Date.now() + 10 * 60_000).toISOString();
    await expectRejected({ ahead: await signAsSummary(fromPe({ issuedAt }), pe) }, 'ISSUED_IN_FUTURE');
  });

  it('judges against what is held: duplicate, conflicts, and a lower revision superseded', async () => {
    const p = period();
    const three = fromPe({ period: p, revision: 3 });
    const first = await sendSummaries(cl, [await signAsSummary(three, pe)]);
    expect(outcomes(first.results)).toEqual(['accepted']);
    const { results } = await sendSummaries(cl, [
      await signAsSummary(three, pe),
      await signAsSummary({ ...three, figures: { lookups: { total: 99 } } }, pe),
      await signAsSummary({ ...three, summaryId: crypto.randomUUID() }, pe),
      await signAsSummary(fromPe({ period: p, revision: 2 }), pe),
      await signAsSummary(fromPe({ period: p, revision: 4 }), pe),
    ]);
    expect(outcomes(results)).toEqual([
      'duplicate',
      'rejected:RECORD_ID_CONFLICT',
      'rejected:VERSION_CONFLICT',
      'superseded',
      'accepted',
    ]);
    expect(results[0]!.summaryId).toBe(three.summaryId);
    const held = (await heldFrom(cl.store, 'PE')).filter((h) =>
      [three.summaryId, results[3]!.summaryId, results[4]!.summaryId].includes(h.summary_id),
    );
    expect(held.map((h) => [h.revision, h.outcome]).sort()).toEqual([
      ['2', 'superseded'],
      ['3', 'accepted'],
      ['4', 'accepted'],
    ]);
  });

  it('refuses 0 or 101 summaries, and anything but an array of strings, as a whole', async () => {
    const one = await signAsSummary(fromPe(), pe);
    expectProblem(await postSummaries(cl, { summaries: [] }), 400, 'BODY_INVALID');
    expectProblem(await postSummaries(cl, { summaries: Array(101).fill(one) }), 400, 'BODY_INVALID');
    expectProblem(await postSummaries(cl, { summaries: [one], extra: 1 }), 400, 'BODY_INVALID');
    expectProblem(await postSummaries(cl, { records: [one] }), 400, 'BODY_INVALID');
    expectProblem(await postSummaries(cl, { summaries: [1] }), 400, 'BODY_INVALID');
    const hundred = await sendSummaries(cl, Array(100).fill(one));
    expect(hundred.results).toHaveLength(100);
    expect(new Set(outcomes(hundred.results.slice(1)))).toEqual(new Set(['duplicate']));
  });
});
