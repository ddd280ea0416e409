/**
 * docs/threats.md F 41 to 48 and 50 over HTTP, on PostgreSQL and on the embedded store: who may assert what, versions
 * that only move forward, recordId and version conflicts, and the clock-skew bound on issuedAt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkReceipt } from '../../src/partner-client/receipt-check.ts';
import type { AeoStatusRecord } from '../../src/protocol/record.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { expectNoTrace, outcomes, STORE_KINDS, tableCounts, traceOf } from '../support/gateway.ts';
import { composeTestGateway, type InjectedGateway } from '../support/inject.ts';
import { freshRecord, freshSigned, nextVersion, signAll } from '../support/records.ts';

let admins: TestAdmins;
beforeAll(() => {
  admins = makeAdmins(['EU', 'PE', 'CL']);
});
afterAll(() => admins.cleanup());

const signer = (id: string) => admins.get(id).config.home.signers[0]!;
const MINUTE = 60_000;

describe.each(STORE_KINDS)('MRA rules on %s', (kind) => {
  let gw: InjectedGateway;
  beforeAll(async () => {
    gw = await composeTestGateway(admins.get('EU').config, kind);
  });
  afterAll(() => gw?.close());

  const send = async (records: AeoStatusRecord[], from = 'PE') =>
    outcomes((await gw.send(await signAll(records, signer(from)))).results);

  async function stateOf(r: AeoStatusRecord) {
    const [state] = await gw.store.query<{ version: string; record_id: string; status: string }>(
      'SELECT version::text, record_id::text, status FROM operator_state WHERE issuer = $1 AND aeo_id = $2',
      [r.issuer, r.operator.aeoId],
    );
    const ids = await gw.store.query<{ value: string }>(
      'SELECT value FROM operator_identifier WHERE issuer = $1 AND aeo_id = $2 ORDER BY value',
      [r.issuer, r.operator.aeoId],
    );
    return { ...state, identifiers: ids.map((i) => i.value) };
  }
  const recordRow = async (recordId: string) =>
    gw.store.query<{ outcome: string; version: string }>(
      'SELECT outcome, version::text FROM inbound_record WHERE record_id = $1',
      [recordId],
    );

  it('41: CL signing an operator of PE gets ISSUER_MISMATCH, with no trace', async () => {
    const r = freshRecord('PE');
    const before = await tableCounts(gw.store);
    expect(await send([r], 'CL')).toEqual(['rejected:ISSUER_MISMATCH']);
    await expectNoTrace(gw.store, before, { recordIds: [r.recordId], aeoIds: [r.operator.aeoId] });
  });

  it('41: without mTLS the first verified signer is the sender; a record of another partner in its batch is a mismatch', async () => {
    const [p, c] = [freshRecord('PE'), freshRecord('CL')];
    const [pj, cj] = [...(await signAll([p], signer('PE'))), ...(await signAll([c], signer('CL')))];
    const before = await tableCounts(gw.store);
    const { receipt, results } = await gw.send([pj!, cj!]);
    expect(receipt.sender).toBe('PE');
    expect(outcomes(results)).toEqual(['accepted', 'rejected:ISSUER_MISMATCH']);
    const after = await tableCounts(gw.store);
    expect(after.inbound_record - before.inbound_record).toBe(1);
    expect(after.operator_state - before.operator_state).toBe(1);
    expect(await traceOf(gw.store, { recordIds: [c.recordId], aeoIds: [c.operator.aeoId] })).toBe(0);
    // Sent on its own, CL's record is CL's.
    expect(await send([c], 'CL')).toEqual(['accepted']);
  });

  it('42: version 4 after version 5 is superseded: kept as evidence, state unchanged', async () => {
    const v5 = freshRecord('PE', { version: 5 });
    expect(await send([v5])).toEqual(['accepted']);
    const held = await stateOf(v5);
    const v4 = nextVersion(v5, 4, {
      status: 'revoked',
      operator: { ...v5.operator, identifiers: [{ scheme: 'TIN', value: 'PE999999999' }] },
    });
    const before = await tableCounts(gw.store);
    expect(await send([v4])).toEqual(['superseded']);
    expect(await stateOf(v5)).toEqual(held);
    expect(held).toMatchObject({ version: '5', record_id: v5.recordId, status: 'certified' });
    expect(await recordRow(v4.recordId)).toEqual([{ outcome: 'superseded', version: '4' }]);
    const after = await tableCounts(gw.store);
    expect(after.inbound_record - before.inbound_record).toBe(1);
    expect([after.operator_state, after.operator_identifier]).toEqual([
      before.operator_state,
      before.operator_identifier,
    ]);
    // Superseded counts as delivered: sent again, it is a duplicate.
    expect(await send([v4])).toEqual(['duplicate']);
  });

  it('43: version 6 before 5 applies 6, and a later 5 is superseded; in one batch too', async () => {
    const v6 = freshRecord('PE', { version: 6, status: 'suspended', suspendedUntil: '2027-06-30' });
    const { suspendedUntil: _until, ...certified } = v6;
    const v5 = nextVersion(certified, 5, { status: 'certified' });
    expect(await send([v6])).toEqual(['accepted']);
    expect(await send([v5])).toEqual(['superseded']);
    expect(await stateOf(v6)).toMatchObject({ version: '6', record_id: v6.recordId, status: 'suspended' });

    const b6 = freshRecord('PE', { version: 6 });
    const b5 = nextVersion(b6, 5);
    const b7 = nextVersion(b6, 7, { status: 'withdrawn' });
    expect(await send([b6, b5])).toEqual(['accepted', 'superseded']);
    expect(await send([b7, nextVersion(b6, 8), nextVersion(b6, 2)])).toEqual([
      'accepted',
      'accepted',
      'superseded',
    ]);
    expect(await stateOf(b6)).toMatchObject({ version: '8' });
  });

  it('45: same recordId with another payload is RECORD_ID_CONFLICT and a security event', async () => {
    const r = freshRecord('PE');
    expect(await send([r])).toEqual(['accepted']);
    const held = await stateOf(r);
    const other = { ...r, status: 'revoked' as const, version: 2 };
    const before = await tableCounts(gw.store);
    const { results } = await gw.send(await signAll([other], signer('PE')));
    expect(outcomes(results)).toEqual(['rejected:RECORD_ID_CONFLICT']);
    expect(results[0]!.recordId).toBe(r.recordId);
    expect(await stateOf(r)).toEqual(held);
    const after = await tableCounts(gw.store);
    expect([after.inbound_record, after.operator_state]).toEqual([
      before.inbound_record,
      before.operator_state,
    ]);
    expect(after.security_event).toBe(before.security_event + 1);
    const events = await gw.store.query<{ kind: string; partner: string; detail: string }>(
      'SELECT kind, partner, detail FROM security_event WHERE record_id = $1',
      [r.recordId],
    );
    expect(events).toEqual([
      { kind: 'RECORD_ID_CONFLICT', partner: 'PE', detail: expect.stringContaining(r.recordId) },
    ]);
  });

  it('45: two payloads under one recordId in the same batch: the first wins, the second conflicts', async () => {
    const r = freshRecord('PE');
    const twin = { ...r, operator: { ...r.operator, name: 'Someone Else S.A.' } };
    const before = await tableCounts(gw.store);
    expect(await send([r, twin])).toEqual(['accepted', 'rejected:RECORD_ID_CONFLICT']);
    const after = await tableCounts(gw.store);
    expect(after.inbound_record - before.inbound_record).toBe(1);
    expect(after.security_event - before.security_event).toBe(1);
    const [state] = await gw.store.query<{ name: string }>(
      'SELECT name FROM operator_state WHERE aeo_id = $1',
      [r.operator.aeoId],
    );
    expect(state?.name).toBe(r.operator.name);
  });

  it('47: same version with another recordId is VERSION_CONFLICT, with no trace', async () => {
    const r = freshRecord('PE', { version: 3 });
    expect(await send([r])).toEqual(['accepted']);
    const rival = nextVersion(r, 3, { status: 'revoked' });
    const held = await stateOf(r);
    const before = await tableCounts(gw.store);
    expect(await send([rival])).toEqual(['rejected:VERSION_CONFLICT']);
    await expectNoTrace(gw.store, before, { recordIds: [rival.recordId] });
    expect(await stateOf(r)).toEqual(held);
    // Also between two records of one batch.
    const x = freshRecord('PE', { version: 2 });
    expect(await send([x, nextVersion(x, 2)])).toEqual(['accepted', 'rejected:VERSION_CONFLICT']);
  });

  it('48: issuedAt 10 minutes ahead is ISSUED_IN_FUTURE, 4 minutes ahead is accepted', async () => {
    const ahead = (ms: number) => new Date(Date.now() + ms).toISOString();
    const late = freshRecord('PE', { issuedAt: ahead(10 * MINUTE) });
    const soon = freshRecord('PE', { issuedAt: ahead(4 * MINUTE) });
    const past = freshRecord('PE', { issuedAt: '2020-01-01T00:00:00Z' });
    const before = await tableCounts(gw.store);
    expect(await send([late, soon, past])).toEqual(['rejected:ISSUED_IN_FUTURE', 'accepted', 'accepted']);
    expect(await traceOf(gw.store, { recordIds: [late.recordId], aeoIds: [late.operator.aeoId] })).toBe(0);
    expect((await tableCounts(gw.store)).inbound_record - before.inbound_record).toBe(2);
  });

  it('50: a receipt changed by one byte, or made for other records, does not prove delivery', async () => {
    const euAtPe = admins.get('PE').config.partners.find((p) => p.adminId === 'EU')!;
    const check = (receiptJws: string, sent: readonly string[]) =>
      checkReceipt(receiptJws, sent, { home: 'PE', partner: euAtPe, at: new Date() });
    const { jws } = await freshSigned('PE', signer('PE'), 2);
    const { receiptJws } = await gw.send(jws);
    expect((await check(receiptJws, jws)).ok).toBe(true);

    const [h, p, s] = receiptJws.split('.') as [string, string, string];
    const flip = (seg: string, at: number) =>
      seg.slice(0, at) + (seg[at] === 'A' ? 'B' : 'A') + seg.slice(at + 1);
    for (const changed of [
      `${h}.${flip(p, 10)}.${s}`,
      `${h}.${p}.${flip(s, 5)}`,
      `${flip(h, 3)}.${p}.${s}`,
    ]) {
      expect((await check(changed, jws)).ok).toBe(false);
    }
    const other = await freshSigned('PE', signer('PE'), 1);
    expect(await check(receiptJws, [jws[0]!, other.jws[0]!])).toMatchObject({
      ok: false,
      code: 'SIGNATURE_INVALID',
    });
    expect((await check(receiptJws, [jws[1]!, jws[0]!])).ok).toBe(false);
    expect((await check(receiptJws, [jws[0]!])).ok).toBe(false);
    // A receipt is no proof for another sender either.
    const forCl = await checkReceipt(receiptJws, jws, {
      home: 'CL',
      partner: admins.get('CL').config.partners.find((x) => x.adminId === 'EU')!,
      at: new Date(),
    });
    expect(forCl).toMatchObject({ ok: false, code: 'ISSUER_MISMATCH' });
  });
});
