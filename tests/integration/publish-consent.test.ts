/**
 * Consent to the exchange, over the decisions API on PostgreSQL and the embedded store: an operator that has
 * not consented is never published (no record, no outbox row) whatever is decided about it; withdrawing
 * consent publishes `withdrawn` to the partners that held it; consenting again publishes the current status.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Partner } from '../../src/mra/types.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { expectProblem, STORE_KINDS } from '../support/gateway.ts';
import { composeTestGateway, type InjectedGateway } from '../support/inject.ts';
import {
  certifyBody,
  decide,
  freshAeoId,
  homeRecords,
  operatorDetails,
  postDecision,
  publishCounts,
  verifyAsPartner,
  withApiClients,
} from '../support/publishing.ts';

let admins: TestAdmins;
beforeAll(() => {
  admins = makeAdmins(['PE', 'CL', 'AR'], { edit: (_id, raw) => withApiClients(raw) });
});
afterAll(() => admins.cleanup());

const peAtCl = (): Partner => admins.get('CL').config.partners.find((p) => p.adminId === 'PE')!;

describe.each(STORE_KINDS)('consent on %s', (kind) => {
  let pe: InjectedGateway;
  beforeAll(async () => {
    pe = await composeTestGateway(admins.get('PE').config, kind);
  });
  afterAll(() => pe?.close());

  const entry = async (aeoId: string) =>
    (
      await pe.store.query<{ consent: boolean; version: string; status: string }>(
        'SELECT consent, version::text, status FROM home_operator WHERE aeo_id = $1',
        [aeoId],
      )
    )[0];

  it('publishes nothing about an operator that has not consented, whatever is decided', async () => {
    const before = await publishCounts(pe.store);
    for (const consent of [false, undefined]) {
      const aeoId = freshAeoId();
      const body = certifyBody(aeoId);
      if (consent === undefined) delete body.consent;
      else body.consent = consent;
      expect((await decide(pe, body)).record).toBeNull();
      for (const decision of ['suspend', 'certify', 'revoke']) {
        expect((await decide(pe, { aeoId, decision })).record).toBeNull();
      }
      expect((await decide(pe, { aeoId, decision: 'amend', programme: 'AEO-S' })).record).toBeNull();
      expect(await homeRecords(pe.store, aeoId)).toEqual([]);
      // The register still follows the national system's decisions, unpublished.
      expect(await entry(aeoId)).toEqual({ consent: false, version: '0', status: 'revoked' });
    }
    const after = await publishCounts(pe.store);
    expect(after).toEqual({
      ...before,
      home_operator: before.home_operator! + 2,
      home_decision: before.home_decision! + 10,
    });
  });

  it('withdrawn consent publishes withdrawn; consent given again publishes the current status', async () => {
    const aeoId = freshAeoId();
    expect((await decide(pe, certifyBody(aeoId, { consent: false }))).record).toBeNull();
    expect(
      (await decide(pe, { aeoId, decision: 'suspend', suspendedUntil: '2026-12-31' })).record,
    ).toBeNull();

    // Consent given: the current status (suspended), first version.
    const given = await decide(pe, { aeoId, decision: 'consent', consent: true });
    expect(given.record).toMatchObject({ version: 1, status: 'suspended', partners: ['AR', 'CL'] });

    // Consent withdrawn: `withdrawn` to the partners that held it, dated today.
    const withdrawn = await decide(pe, { aeoId, decision: 'consent', consent: false });
    expect(withdrawn.record).toMatchObject({ version: 2, status: 'withdrawn', partners: ['AR', 'CL'] });
    const rows = await homeRecords(pe.store, aeoId);
    const w = await verifyAsPartner(rows[1]!.jws, peAtCl());
    expect(w).toMatchObject({ status: 'withdrawn', version: 2 });
    expect(w.statusSince).toBe(new Date().toISOString().slice(0, 10));
    expect(w).not.toHaveProperty('suspendedUntil');
    expect(await entry(aeoId)).toEqual({ consent: false, version: '2', status: 'suspended' });

    // While consent is withdrawn, nothing more is published, and withdrawing again says nothing new.
    const renamed = { ...operatorDetails(aeoId), name: 'Renamed While Private S.A.' };
    expect((await decide(pe, { aeoId, decision: 'amend', operator: renamed })).record).toBeNull();
    expect((await decide(pe, { aeoId, decision: 'consent', consent: false })).record).toBeNull();
    expect((await decide(pe, { aeoId, decision: 'certify', statusSince: '2026-09-01' })).record).toBeNull();

    // Consent again: the status as it is now (certified, renamed), next version, to both partners.
    const again = await decide(pe, { aeoId, decision: 'consent', consent: true });
    expect(again.record).toMatchObject({ version: 3, status: 'certified', partners: ['AR', 'CL'] });
    const now = await verifyAsPartner((await homeRecords(pe.store, aeoId))[2]!.jws, peAtCl());
    expect(now).toMatchObject({ status: 'certified', statusSince: '2026-09-01', version: 3 });
    expect(now.operator.name).toBe('Renamed While Private S.A.');
    expect((await homeRecords(pe.store, aeoId)).map((r) => [r.version, r.status, r.partners])).toEqual([
      [1, 'suspended', ['AR', 'CL']],
      [2, 'withdrawn', ['AR', 'CL']],
      [3, 'certified', ['AR', 'CL']],
    ]);
  });

  it('takes consent with any decision, and withdrawal with one', async () => {
    const aeoId = freshAeoId();
    expect((await decide(pe, certifyBody(aeoId, { consent: false }))).record).toBeNull();
    // A suspension that also records consent publishes the suspension.
    const both = await decide(pe, { aeoId, decision: 'suspend', consent: true });
    expect(both.record).toMatchObject({ version: 1, status: 'suspended' });
    // A reinstatement that also withdraws consent publishes `withdrawn`, not `certified`.
    const off = await decide(pe, { aeoId, decision: 'certify', consent: false });
    expect(off.record).toMatchObject({ version: 2, status: 'withdrawn' });
  });

  it('refuses a consent decision without its answer, and changes nothing', async () => {
    const aeoId = freshAeoId();
    await decide(pe, certifyBody(aeoId));
    const before = await publishCounts(pe.store);
    const res = await postDecision(pe, { decisionId: crypto.randomUUID(), aeoId, decision: 'consent' });
    expectProblem(res, 400, 'BODY_INVALID');
    expect(await publishCounts(pe.store)).toEqual(before);
  });
});
