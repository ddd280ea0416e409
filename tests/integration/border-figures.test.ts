/**
 * borderFigures on real PostgreSQL at its edges: an empty period gives zero counts and leaves latency out; the
 * version in effect at the end of the period is judged (an older payload when the current version takes
 * effect later); receipts signed before outcome counts were kept are decoded; lookups of issuers that are no
 * partner are not counted; refusal reasons outside the protocol's pattern count as `unspecified`; operators
 * whose versions in effect share their facts are each counted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { borderFigures, UNSPECIFIED_REASON } from '../../src/monitoring/border-figures.ts';
import type { Partner } from '../../src/mra/types.ts';
import type { AeoStatusRecord } from '../../src/protocol/record.ts';
import {
  apiGet,
  bearer,
  type InjectedReplica,
  type LookupSetup,
  lookupBatch,
  makeLookupSetup,
  TOKENS,
} from '../support/lookup.ts';
import { freshRecord, nextVersion } from '../support/records.ts';

let setup: LookupSetup;
let gw: InjectedReplica;
let partner: Partner;

const DAY = 86_400_000;
const day = (offset: number) => new Date(Date.now() + offset * DAY).toISOString().slice(0, 10);
const sized = (
  size: 'micro' | 'small' | 'medium' | 'large' | undefined,
  overrides: Partial<AeoStatusRecord> = {},
) => {
  const r = freshRecord('CL', overrides);
  const { enterpriseSize: _drop, ...operator } = r.operator;
  return { ...r, operator: size === undefined ? operator : { ...operator, enterpriseSize: size } };
};

beforeAll(async () => {
  setup = await makeLookupSetup();
  gw = await setup.composed();
  const found = setup.config.partners.find((p) => p.adminId === 'CL');
  if (found === undefined) throw new Error('no partner CL');
  partner = found;
});

afterAll(async () => {
  await setup?.close();
});

describe('borderFigures', () => {
  it('gives zero counts for an empty period and leaves latency out', async () => {
    const figures = await borderFigures(gw.store, {
      partner,
      from: '2021-03-01',
      to: '2021-03-31',
      now: new Date(),
    });
    expect(figures).toEqual({
      records: { accepted: 0, duplicate: 0, superseded: 0, rejected: {} },
      operators: {
        recognised: 0,
        byProgramme: { 'AEO-S': 0, 'AEO-C': 0, 'AEO-F': 0 },
        byRole: Object.fromEntries([...partner.mra.roles].map((r) => [r, 0])),
        bySize: { micro: 0, small: 0, medium: 0, large: 0, unknown: 0 },
      },
      lookups: { total: 0, recognised: 0, notRecognised: {} },
      benefits: partner.mra.benefits.map((b) => ({
        benefitId: b.id,
        applied: { sme: 0, large: 0, unknown: 0 },
        refused: { sme: 0, large: 0, unknown: 0 },
        refusalReasons: {},
      })),
    });
    expect('latency' in figures).toBe(false);
  });

  it('judges the version in effect, decodes old receipts, counts partners only, and files odd reasons', async () => {
    const later = sized('micro');
    const unknownSize = sized(undefined);
    const large = sized('large', { programme: 'AEO-S' });
    const suspended = sized('medium', { status: 'suspended' });
    const first = await setup.send(gw, [later, unknownSize, large, suspended]);
    expect(first.results.map((r) => r.outcome)).toEqual(['accepted', 'accepted', 'accepted', 'accepted']);
    // A version that takes effect only in 2099: until then the version before it is the one in effect.
    const future = nextVersion(later, 2, { status: 'revoked', statusSince: '2099-01-01' });
    const second = await setup.send(gw, [future, future, nextVersion(large, 1)]);
    expect(second.results.map((r) => r.outcome)).toEqual(['accepted', 'duplicate', 'rejected']);
    // This receipt was signed before outcome counts were kept: the figures read the signed receipt instead.
    await gw.store.query('UPDATE inbound_receipt SET outcome_counts = NULL WHERE receipt_id = $1', [
      second.receipt.receiptId,
    ]);

    // Lookups: two recognised, one suspended, one unknown of CL; one of an issuer that is no partner.
    const items = [
      { issuer: 'CL', aeoId: later.operator.aeoId },
      { issuer: 'CL', aeoId: large.operator.aeoId },
      { issuer: 'CL', aeoId: suspended.operator.aeoId },
      { issuer: 'CL', aeoId: 'CLNOSUCHOPERATOR' },
      { issuer: 'US', aeoId: 'US0001' },
    ];
    const res = await lookupBatch(gw, { items });
    expect(res.status, res.text.slice(0, 300)).toBe(200);

    // Feedback: the benefit applied to a micro and a large operator; refused with a protocol reason, with
    // one outside the pattern and with none.
    const at = new Date().toISOString();
    const feedback = [
      { aeoId: later.operator.aeoId, applied: true },
      { aeoId: large.operator.aeoId, applied: true },
      { aeoId: unknownSize.operator.aeoId, applied: false, reason: 'documents-missing' },
      { aeoId: large.operator.aeoId, applied: false, reason: 'Not a code!', ref: 'C2' },
      { aeoId: later.operator.aeoId, applied: false, ref: 'C2' },
    ].map((f, i) => ({
      issuer: 'CL',
      aeoId: f.aeoId,
      benefit: 'fewer-checks',
      applied: f.applied,
      consignmentRef: f.ref ?? `C${i}`,
      at,
      ...(f.reason === undefined ? {} : { reason: f.reason }),
    }));
    const fb = await gw.api.post('/api/v1/feedback', { items: feedback }, { headers: bearer(TOKENS.border) });
    expect(fb.status, fb.text.slice(0, 300)).toBe(200);

    // The report writes the lookups counted in memory first; its inbound figures are borderFigures'.
    const report = await gw.gateway.services.reports.report({ partner: 'CL', from: day(-1), to: day(1) });
    const figures = await borderFigures(gw.store, { partner, from: day(-1), to: day(1), now: new Date() });
    expect(report.inbound.figures).toEqual(figures);
    expect(figures.records).toEqual({
      accepted: 5,
      duplicate: 1,
      superseded: 0,
      rejected: { VERSION_CONFLICT: 1 },
    });
    // later (v1, micro, AEO-F), unknownSize (AEO-F), large (AEO-S); suspended is not recognised.
    expect(figures.operators).toEqual({
      recognised: 3,
      byProgramme: { 'AEO-S': 1, 'AEO-C': 0, 'AEO-F': 2 },
      byRole: {
        ...Object.fromEntries([...partner.mra.roles].map((r) => [r, 0])),
        exporter: 3,
        manufacturer: 3,
      },
      bySize: { micro: 1, small: 0, medium: 0, large: 1, unknown: 1 },
    });
    expect(figures.lookups).toEqual({ total: 4, recognised: 2, notRecognised: { suspended: 1, unknown: 1 } });
    expect(figures.benefits).toEqual([
      {
        benefitId: 'fewer-checks',
        applied: { sme: 1, large: 1, unknown: 0 },
        refused: { sme: 1, large: 1, unknown: 1 },
        refusalReasons: { 'documents-missing': 1, [UNSPECIFIED_REASON]: 2 },
      },
      {
        benefitId: 'priority',
        applied: { sme: 0, large: 0, unknown: 0 },
        refused: { sme: 0, large: 0, unknown: 0 },
        refusalReasons: {},
      },
    ]);
    // Received just now from records issued just before: measured, and no border system was notified.
    expect(figures.latency?.toReceiptMs).toEqual({
      p50: expect.any(Number),
      p95: expect.any(Number),
      p99: expect.any(Number),
    });
    expect(figures.latency && 'toBorderMs' in figures.latency).toBe(false);

    // The lookups the API served are the ones counted: the read model judged each item once.
    const answers = (JSON.parse(res.text) as { answers: { recognised: boolean }[] }).answers;
    expect(answers.filter((a) => a.recognised)).toHaveLength(2);
    const single = await apiGet(gw, `/operators/CL/${later.operator.aeoId}`);
    expect(single.status).toBe(200);
    const again = (await gw.gateway.services.reports.report({ partner: 'CL', from: day(-1), to: day(1) }))
      .inbound.figures;
    expect(again.lookups).toEqual({ total: 5, recognised: 3, notRecognised: { suspended: 1, unknown: 1 } });
  });

  it('counts every operator whose version in effect has the same facts, current and older versions alike', async () => {
    const figuresNow = () => borderFigures(gw.store, { partner, from: day(-1), to: day(1), now: new Date() });
    const heldNow = async () =>
      (await gw.gateway.services.reports.report({ partner: 'CL', from: day(-1), to: day(1) })).inbound
        .operators;
    const before = { figures: (await figuresNow()).operators, held: await heldNow() };
    const same = [0, 1, 2].map(() => sized('small'));
    const suspended = [0, 1].map(() => sized('small', { status: 'suspended' }));
    expect((await setup.send(gw, [...same, ...suspended])).results.map((r) => r.outcome)).toEqual(
      Array(5).fill('accepted'),
    );
    // Two of them get a version that takes effect only in 2099: their first, read from its payload, still counts.
    const future = same
      .slice(0, 2)
      .map((r) => nextVersion(r, 2, { status: 'revoked', statusSince: '2099-01-01' }));
    expect((await setup.send(gw, future)).results.map((r) => r.outcome)).toEqual(['accepted', 'accepted']);

    const after = { figures: (await figuresNow()).operators, held: await heldNow() };
    const grew = (a: number | undefined, b: number | undefined) => (a ?? 0) - (b ?? 0);
    expect(grew(after.figures?.recognised, before.figures?.recognised)).toBe(3);
    expect(grew(after.figures?.bySize?.small, before.figures?.bySize?.small)).toBe(3);
    expect(grew(after.figures?.byProgramme?.['AEO-F'], before.figures?.byProgramme?.['AEO-F'])).toBe(3);
    expect(grew(after.figures?.byRole?.exporter, before.figures?.byRole?.exporter)).toBe(3);
    expect(after.held.held - before.held.held).toBe(5);
    expect(grew(after.held.byStatus.certified, before.held.byStatus.certified)).toBe(3);
    expect(grew(after.held.byStatus.suspended, before.held.byStatus.suspended)).toBe(2);
    expect(after.held.byStatus.revoked).toBe(before.held.byStatus.revoked);
  });
});
