/**
 * Figures as of the time they describe, on real PostgreSQL: border feedback keeps the enterprise size of the
 * operator's version in effect at the consignment (a size change between two consignments moves neither); a
 * period's figures follow the MRA terms in force at its end, so an amendment (a role and a benefit removed,
 * then a restart) leaves an earlier period's figures and its re-issued summary as they were while a later
 * period follows the new terms; a summary issued right after the lookups counts them all, and one that waited
 * for the issue lock counts what committed while it waited.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { borderFigures } from '../../src/monitoring/border-figures.ts';
import { ISSUE_LOCK_KEY, issueSummary } from '../../src/monitoring/summaries/issue.ts';
import type { Partner } from '../../src/mra/types.ts';
import type { AeoStatusRecord, Role } from '../../src/protocol/record.ts';
import {
  bearer,
  type InjectedReplica,
  type LookupSetup,
  lookupBatch,
  makeLookupSetup,
  TOKENS,
  within,
} from '../support/lookup.ts';
import { freshRecord, nextVersion } from '../support/records.ts';

const DAY = 86_400_000;
const day = (offset: number) => new Date(Date.now() + offset * DAY).toISOString().slice(0, 10);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

let setup: LookupSetup;
let gw: InjectedReplica;

const partnerOf = (config: { partners: readonly Partner[] }): Partner => {
  const p = config.partners.find((x) => x.adminId === 'CL');
  if (p === undefined) throw new Error('no partner CL');
  return p;
};

const operator = (roles: Role[], size: 'small' | 'large', overrides: Partial<AeoStatusRecord> = {}) => {
  const r = freshRecord('CL', overrides);
  return { ...r, operator: { ...r.operator, roles, enterpriseSize: size } };
};

let consignment = 0;
async function feedback(
  replica: InjectedReplica,
  items: readonly { r: AeoStatusRecord; benefit: string; applied: boolean; at: Date }[],
): Promise<string[]> {
  const refs = items.map(() => `TERMS-${process.pid}-${++consignment}`);
  const body = {
    items: items.map((f, i) => ({
      issuer: 'CL',
      aeoId: f.r.operator.aeoId,
      benefit: f.benefit,
      applied: f.applied,
      consignmentRef: refs[i],
      at: f.at.toISOString(),
    })),
  };
  const res = await replica.api.post('/api/v1/feedback', body, { headers: bearer(TOKENS.border) });
  expect(res.status, res.text.slice(0, 300)).toBe(200);
  const results = (JSON.parse(res.text) as { results: { outcome: string }[] }).results;
  expect(results.map((x) => x.outcome)).toEqual(items.map(() => 'stored'));
  return refs;
}

beforeAll(async () => {
  setup = await makeLookupSetup();
  // Started with the real clock: the MRA terms as configured are recorded as of now.
  gw = await setup.composed();
});

afterAll(async () => {
  await setup?.close();
});

describe('figures as of the time they describe', () => {
  it('keeps the enterprise size of the version in effect at the consignment', async () => {
    const v1 = operator(['exporter'], 'small');
    const before = new Date(Date.now() - 3_600_000);
    expect((await setup.send(gw, [v1])).results.map((r) => r.outcome)).toEqual(['accepted']);
    await pause(20);
    const between = new Date();
    await pause(20);
    // The operator grows: version 2 is large, received after the first consignment.
    const v2 = nextVersion(v1, 2, { operator: { ...v1.operator, enterpriseSize: 'large' } });
    expect((await setup.send(gw, [v2])).results.map((r) => r.outcome)).toEqual(['accepted']);
    await pause(20);
    // Reported after the change: the first consignment while v1 was in effect, the second under v2, and one
    // dated before any version was received (no version in effect then: the current size).
    const refs = await feedback(gw, [
      { r: v1, benefit: 'fewer-checks', applied: true, at: between },
      { r: v1, benefit: 'fewer-checks', applied: false, at: new Date() },
      { r: v1, benefit: 'fewer-checks', applied: true, at: before },
    ]);
    const rows = await gw.store.query<{ consignment_ref: string; enterprise_size: string | null }>(
      'SELECT consignment_ref, enterprise_size FROM border_feedback WHERE consignment_ref = ANY($1::text[])',
      [refs],
    );
    const sizeOf = new Map(rows.map((r) => [r.consignment_ref, r.enterprise_size]));
    expect(refs.map((ref) => sizeOf.get(ref))).toEqual(['small', 'large', 'large']);

    const figures = await borderFigures(gw.store, {
      partner: partnerOf(setup.config),
      from: day(-1),
      to: day(0),
      now: new Date(),
    });
    const fewerChecks = figures.benefits?.find((b) => b.benefitId === 'fewer-checks');
    expect(fewerChecks?.applied).toEqual({ sme: 1, large: 1, unknown: 0 });
    expect(fewerChecks?.refused).toEqual({ sme: 0, large: 1, unknown: 0 });
  });

  it('judges a period under the terms in force at its end: an amendment leaves earlier figures as they were', async () => {
    const configured = partnerOf(setup.config);
    const roles = [...configured.mra.roles];
    expect(roles).toContain('importer');
    expect(configured.mra.benefits.map((b) => b.id)).toEqual(['fewer-checks', 'priority']);
    const importer = operator(['importer'], 'small');
    const both = operator(['exporter', 'importer'], 'large');
    expect((await setup.send(gw, [importer, both])).results.map((r) => r.outcome)).toEqual([
      'accepted',
      'accepted',
    ]);
    await pause(20);
    await feedback(gw, [
      { r: importer, benefit: 'fewer-checks', applied: true, at: new Date() },
      { r: both, benefit: 'priority', applied: true, at: new Date() },
    ]);
    const zeroRoles = (of: readonly Role[]) => Object.fromEntries(of.map((r) => [r, 0]));
    const split = (sme: number, large: number) => ({ sme, large, unknown: 0 });
    const today = { from: day(0), to: day(0) };
    const earlier = await borderFigures(gw.store, { partner: configured, ...today, now: new Date() });
    // The earlier test's operator (exporter, large now) is recognised too.
    expect(earlier.operators).toMatchObject({
      recognised: 3,
      byRole: { ...zeroRoles(roles), exporter: 2, importer: 2 },
    });
    expect(earlier.benefits?.map((b) => b.benefitId)).toEqual(['fewer-checks', 'priority']);
    expect(earlier.benefits?.find((b) => b.benefitId === 'priority')?.applied).toEqual(split(0, 1));

    // The amendment, in force from two days on: importers and the priority benefit are no longer covered.
    const amendedRoles = roles.filter((r) => r !== 'importer');
    const later = () => new Date(Date.now() + 2 * DAY);
    const amended = await setup.composed(
      {
        roles: new Set(amendedRoles),
        benefits: configured.mra.benefits.filter((b) => b.id !== 'priority'),
      },
      later,
    );
    const partner = partnerOf(amended.gateway.services.config);
    expect([...partner.mra.roles]).toEqual(amendedRoles);

    // Today, taken after the amendment with the amended configuration: as before.
    expect(await borderFigures(amended.store, { partner, ...today, now: later() })).toEqual(earlier);
    // A summary of today issued after the amendment signs the figures of the terms that applied today.
    const signer = setup.config.home.signers[0];
    if (signer === undefined) throw new Error('PE has no signer');
    const issued = await issueSummary(
      { store: amended.store, home: 'PE', signer: () => signer, clock: later },
      { partner, ...today },
    );
    expect(issued.summary.figures).toEqual(earlier);

    // The day the amendment is in force: the importer-only operator is out of scope, importers are no role
    // of the figures, and priority is no benefit of them.
    const after = day(2);
    const figures = await borderFigures(amended.store, {
      partner: configured,
      from: after,
      to: after,
      now: new Date(Date.now() + 3 * DAY),
    });
    expect(figures.operators).toMatchObject({
      recognised: 2,
      byRole: { ...zeroRoles(amendedRoles), exporter: 2 },
    });
    expect(figures.benefits).toEqual([
      { benefitId: 'fewer-checks', applied: split(0, 0), refused: split(0, 0), refusalReasons: {} },
    ]);
    await amended.close();
  });

  it('counts in a summary the lookups answered just before it is issued', async () => {
    // A replica living a day ahead: today has ended for it, and it answers the lookups counted today.
    const ahead = await setup.composed(undefined, () => new Date(Date.now() + DAY));
    const before = await borderFigures(ahead.store, {
      partner: partnerOf(setup.config),
      from: day(0),
      to: day(0),
      now: new Date(),
    });
    const res = await lookupBatch(ahead, { items: [{ issuer: 'CL', aeoId: 'CLNOSUCH0001' }] });
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    const issued = await ahead.gateway.services.summaries.issue({ partner: 'CL', from: day(0), to: day(0) });
    expect(issued.summary.figures.lookups?.total).toBe((before.lookups?.total ?? 0) + 1);
    expect(issued.summary.figures.lookups?.notRecognised?.unknown).toBe(
      (before.lookups?.notRecognised?.unknown ?? 0) + 1,
    );
    await ahead.close();
  }, 60_000);

  it('takes the figures under the issue lock: what committed while an issuer waited is in them', async () => {
    const partner = partnerOf(setup.config);
    const signer = setup.config.home.signers[0];
    if (signer === undefined) throw new Error('PE has no signer');
    const today = { from: day(0), to: day(0) };
    const r = operator(['exporter'], 'small');
    expect((await setup.send(gw, [r])).results.map((x) => x.outcome)).toEqual(['accepted']);
    const before = await borderFigures(gw.store, { partner, ...today, now: new Date() });
    const applied = (f: typeof before) =>
      f.benefits?.find((b) => b.benefitId === 'fewer-checks')?.applied?.sme;
    // Another issuer (a replica, or the timer) holds the lock while this one is asked to issue.
    const holder = new pg.Client({ connectionString: setup.db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock($1)', [ISSUE_LOCK_KEY]);
      const issuing = issueSummary(
        { store: gw.store, home: 'PE', signer: () => signer, clock: () => new Date(Date.now() + DAY) },
        { partner, ...today },
      );
      await within('the issuer waiting for the lock', 60_000, async () => {
        const [w] = await gw.store.query<{ n: string }>(
          `SELECT count(*)::text AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`,
        );
        return w?.n !== '0';
      });
      // Feedback committed while it waits, then the other issuer is done.
      await feedback(gw, [{ r, benefit: 'fewer-checks', applied: true, at: new Date() }]);
      await holder.query('COMMIT');
      const issued = await issuing;
      expect(applied(issued.summary.figures)).toBe((applied(before) ?? 0) + 1);
    } finally {
      await holder.end();
    }
  }, 120_000);
});
