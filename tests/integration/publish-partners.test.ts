/**
 * Who gets a record: one outbox row per partner whose MRA, in force at the time, covers the record's
 * programme and at least one of its roles, plus every partner that was sent an earlier version; a `withdrawn`
 * record only to partners that held the operator. PE's MRAs differ: with CL (in force since 2020) AEO-S and
 * AEO-F for exporters, importers and manufacturers; with AR (in force since 2024) AEO-C and AEO-F for carriers
 * and customs brokers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { STORE_KINDS } from '../support/gateway.ts';
import { composeTestGateway, type InjectedGateway } from '../support/inject.ts';
import {
  certifyBody,
  decide,
  freshAeoId,
  homeRecords,
  operatorDetails,
  publishCounts,
  withApiClients,
} from '../support/publishing.ts';

let admins: TestAdmins;
beforeAll(() => {
  admins = makeAdmins(['PE', 'CL', 'AR'], {
    edit: (id, raw) => {
      withApiClients(raw);
      if (id !== 'PE') return;
      for (const p of raw.partners) {
        if (p.adminId === 'CL')
          p.mra.scope = { programmes: ['AEO-S', 'AEO-F'], roles: ['exporter', 'importer', 'manufacturer'] };
        if (p.adminId === 'AR') {
          p.mra.scope = { programmes: ['AEO-C', 'AEO-F'], roles: ['carrier', 'customs-broker'] };
          p.mra.inForceFrom = '2024-01-01';
        }
      }
    },
  });
});
afterAll(() => admins.cleanup());

describe.each(STORE_KINDS)('recipients on %s', (kind) => {
  let pe: InjectedGateway;
  /** The publisher's clock: the real time unless a test sets it. */
  let at: Date | undefined;
  beforeAll(async () => {
    pe = await composeTestGateway(admins.get('PE').config, kind, { clock: () => at ?? new Date() });
  });
  afterAll(() => pe?.close());

  const certify = async (programme: string, roles: string[]) => {
    const aeoId = freshAeoId();
    const result = await decide(
      pe,
      certifyBody(aeoId, { programme, operator: operatorDetails(aeoId, roles) }),
    );
    return { aeoId, partners: result.record?.partners };
  };

  it('writes outbox rows exactly for the partners whose MRA covers programme and roles', async () => {
    at = undefined;
    const cases: [string, string[], string[]][] = [
      ['AEO-F', ['exporter'], ['CL']],
      ['AEO-F', ['manufacturer', 'importer'], ['CL']],
      ['AEO-C', ['carrier'], ['AR']],
      ['AEO-F', ['exporter', 'carrier'], ['AR', 'CL']],
      ['AEO-S', ['warehouse-operator'], []],
      ['AEO-C', ['exporter'], []],
      ['AEO-S', ['carrier'], []],
    ];
    const before = await publishCounts(pe.store);
    for (const [programme, roles, expected] of cases) {
      const { aeoId, partners } = await certify(programme, roles);
      expect(partners, `${programme} ${roles.join(',')}`).toEqual(expected);
      const rows = await homeRecords(pe.store, aeoId);
      // Signed and kept even when no partner is covered: the feed and a later MRA may still need it.
      expect(rows.map((r) => [r.version, r.partners])).toEqual([[1, expected]]);
    }
    const after = await publishCounts(pe.store);
    expect(after.home_record! - before.home_record!).toBe(cases.length);
    expect(after.outbox! - before.outbox!).toBe(5);
  });

  it('keeps sending to a partner that held the operator after it left that partner’s scope', async () => {
    at = undefined;
    const exporter = await certify('AEO-F', ['exporter']);
    expect(exporter.partners).toEqual(['CL']);
    // Now a carrier: AR's scope; CL held it, so CL hears of the change and of everything after.
    const moved = await decide(pe, {
      aeoId: exporter.aeoId,
      decision: 'amend',
      operator: operatorDetails(exporter.aeoId, ['carrier']),
    });
    expect(moved.record?.partners).toEqual(['AR', 'CL']);
    const suspended = await decide(pe, { aeoId: exporter.aeoId, decision: 'suspend' });
    expect(suspended.record?.partners).toEqual(['AR', 'CL']);

    // A programme neither MRA covers: only the partners that held it are told.
    const carrier = await certify('AEO-C', ['carrier']);
    expect(carrier.partners).toEqual(['AR']);
    const narrowed = await decide(pe, { aeoId: carrier.aeoId, decision: 'amend', programme: 'AEO-S' });
    expect(narrowed.record?.partners).toEqual(['AR']);
    expect((await homeRecords(pe.store, carrier.aeoId)).map((r) => r.partners)).toEqual([['AR'], ['AR']]);
  });

  it('sends only to partners whose MRA is in force at the time of the decision', async () => {
    at = new Date('2019-06-01T12:00:00Z');
    expect((await certify('AEO-F', ['exporter', 'carrier'])).partners).toEqual([]);
    at = new Date('2022-06-01T12:00:00Z');
    expect((await certify('AEO-F', ['exporter', 'carrier'])).partners).toEqual(['CL']);
    at = undefined;
    expect((await certify('AEO-F', ['exporter', 'carrier'])).partners).toEqual(['AR', 'CL']);
  });

  it('sends withdrawn only to partners that held the operator, never to one that comes in scope', async () => {
    // Certified while only CL's MRA was in force: AR never received this operator.
    at = new Date('2022-06-01T12:00:00Z');
    const { aeoId, partners } = await certify('AEO-F', ['exporter', 'carrier']);
    expect(partners).toEqual(['CL']);
    at = undefined;
    const off = await decide(pe, { aeoId, decision: 'consent', consent: false });
    expect(off.record).toMatchObject({ version: 2, status: 'withdrawn', partners: ['CL'] });
    // The same for a withdrawal from the programme.
    at = new Date('2022-06-01T12:00:00Z');
    const other = await certify('AEO-F', ['exporter', 'carrier']);
    at = undefined;
    const left = await decide(pe, { aeoId: other.aeoId, decision: 'withdraw' });
    expect(left.record).toMatchObject({ status: 'withdrawn', partners: ['CL'] });
    // Consent again: the current status goes to every partner now covering it.
    const on = await decide(pe, { aeoId, decision: 'consent', consent: true });
    expect(on.record).toMatchObject({ version: 3, status: 'certified', partners: ['AR', 'CL'] });
    expect((await homeRecords(pe.store, aeoId)).map((r) => [r.status, r.partners])).toEqual([
      ['certified', ['CL']],
      ['withdrawn', ['CL']],
      ['certified', ['AR', 'CL']],
    ]);
  });
});
