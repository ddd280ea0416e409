/**
 * Retention between two real gateways: an operator withdrawn for longer than the period loses its personal
 * data at both ends (the national register and the partner's copy), while the monitoring figures, the audit
 * chain, the snapshot digests of both sides and the lookup answer stay consistent; operators not due are
 * untouched.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/audit/verify.ts';
import { runRetention } from '../../src/retention/retention.ts';
import type { Store } from '../../src/store/types.ts';
import { type Exchange, makeExchange, settledOutbox } from '../support/delivery.ts';
import {
  API_TOKENS,
  bearer,
  digestOfRecords,
  getPage,
  newAeoId,
  payloadOf,
  publish,
} from '../support/exchange.ts';
import { httpRequest } from '../support/gateway.ts';

const BORDER = randomBytes(32).toString('base64url');
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const today = () => new Date().toISOString().slice(0, 10);

let ex: Exchange;
/** gone: withdrawn long ago; recent: withdrawn today; kept: certified. */
const op = { gone: newAeoId('PE'), recent: newAeoId('PE'), kept: newAeoId('PE') };

beforeAll(async () => {
  ex = await makeExchange(['PE', 'CL'], {
    edit: (_id, raw) => {
      raw.retention = { intervalMs: 0 };
      raw.monitoring = { summaries: { auto: false } };
      raw.apiClients = [
        ...(raw.apiClients ?? []),
        { id: 'border', tokenSha256: sha256(BORDER), scopes: ['border'] },
      ];
    },
  });
  await ex.start('PE');
  await ex.start('CL');
  for (const id of Object.values(op)) await publish(ex.gw('PE'), id);
  await publish(ex.gw('PE'), op.gone, { decision: 'withdraw', statusSince: '2025-06-01' });
  await publish(ex.gw('PE'), op.recent, { decision: 'withdraw', statusSince: today() });
  await settledOutbox(ex.store('PE'), 'CL', 5);
}, 120_000);
afterAll(() => ex?.close());

async function report(home: string, partner: string): Promise<Record<string, unknown>> {
  const from = `${today().slice(0, 8)}01`;
  const res = await httpRequest(
    `${ex.gw(home).gateway.apiUrl}/api/v1/monitoring/report?partner=${partner}&from=${from}&to=${today()}`,
    { method: 'GET', headers: bearer(API_TOKENS.monitoring) },
  );
  if (res.status !== 200) throw new Error(`report: ${res.status} ${res.text.slice(0, 300)}`);
  const body = JSON.parse(res.text) as Record<string, unknown>;
  return { inbound: body.inbound, outbound: body.outbound };
}

const personal = (store: Store, sql: string, aeoId: string) =>
  store.query<Record<string, unknown>>(sql, [aeoId]);

describe('retention of withdrawn operators', () => {
  it('removes the personal data of an operator withdrawn past the period, and nothing else', async () => {
    const before = { pe: await report('PE', 'CL'), cl: await report('CL', 'PE') };
    const now = new Date();
    const pe = await runRetention(ex.store('PE'), { withdrawnPersonalDataDays: 365 }, now);
    const cl = await runRetention(ex.store('CL'), { withdrawnPersonalDataDays: 365 }, now);
    expect(pe).toMatchObject({ homeOperators: 1, homeRecords: 2, foreignOperators: 0 });
    expect(cl).toMatchObject({ foreignOperators: 1, foreignRecords: 2, identifiers: 1, homeOperators: 0 });

    // The national register keeps roles and dates, not the name, address or identifiers.
    const homeSql = `SELECT o.operator, o.status, o.redacted_at, h.jws, h.digest FROM home_operator o
       JOIN home_record h ON h.aeo_id = o.aeo_id WHERE o.aeo_id = $1 ORDER BY h.version`;
    const gone = await personal(ex.store('PE'), homeSql, op.gone);
    expect(gone).toHaveLength(2);
    for (const r of gone) {
      expect(r.jws).toBeNull();
      expect(r.redacted_at).not.toBeNull();
      expect(r.operator).toEqual({ roles: ['exporter', 'manufacturer'] });
      expect(r.digest).toEqual(expect.any(String));
    }
    for (const id of [op.recent, op.kept]) {
      for (const r of await personal(ex.store('PE'), homeSql, id)) {
        expect(r.jws).toEqual(expect.any(String));
        expect((r.operator as { name: string }).name).toBe(`Operator ${id}`);
      }
    }

    // The partner's copy: evidence texts, name and identifiers gone; what the records said is kept.
    const foreignSql = `SELECT s.name, s.payload, s.status, r.jws, r.jws_digest, r.kept_payload,
         (SELECT count(*)::int FROM operator_identifier i WHERE i.issuer = s.issuer AND i.aeo_id = s.aeo_id) AS ids
       FROM operator_state s JOIN inbound_record r ON r.issuer = s.issuer AND r.aeo_id = s.aeo_id
      WHERE s.issuer = 'PE' AND s.aeo_id = $1 ORDER BY r.version`;
    const held = await personal(ex.store('CL'), foreignSql, op.gone);
    expect(held).toHaveLength(2);
    for (const r of held) {
      expect([r.name, r.jws, r.ids, r.status]).toEqual([null, null, 0, 'withdrawn']);
      expect(JSON.stringify(r.payload)).not.toContain(`Operator ${op.gone}`);
      expect(JSON.stringify(r.kept_payload)).not.toContain(`Operator ${op.gone}`);
      expect((r.payload as { operator: { roles: string[] } }).operator.roles).toEqual([
        'exporter',
        'manufacturer',
      ]);
    }
    expect(held.map((r) => (r.kept_payload as { status: string }).status)).toEqual([
      'certified',
      'withdrawn',
    ]);
    for (const id of [op.recent, op.kept]) {
      for (const r of await personal(ex.store('CL'), foreignSql, id)) {
        expect([r.name, r.ids]).toEqual([`Operator ${id}`, 1]);
        expect(r.jws).toEqual(expect.any(String));
      }
    }

    // The figures count as before, and the chain verifies by the digests kept.
    expect({ pe: await report('PE', 'CL'), cl: await report('CL', 'PE') }).toEqual(before);
    for (const id of ['PE', 'CL']) {
      const v = await verifyAudit(ex.store(id), 3);
      expect(v.broken).toBeUndefined();
      expect(v.evidence.redacted).toBe(2);
    }
    const [entry] = await ex
      .store('CL')
      .query<{ kind: string; detail: Record<string, unknown> }>(
        'SELECT kind, detail FROM audit_log ORDER BY audit_log.seq DESC LIMIT 1',
      );
    expect(entry).toMatchObject({
      kind: 'retention',
      detail: { foreignOperators: 1, foreignRecords: 2, days: 365 },
    });

    // A second run finds nothing left to remove.
    expect(await runRetention(ex.store('PE'), { withdrawnPersonalDataDays: 365 }, now)).toMatchObject({
      homeOperators: 0,
      homeRecords: 0,
    });
    expect(await runRetention(ex.store('CL'), { withdrawnPersonalDataDays: 365 }, now)).toMatchObject({
      foreignOperators: 0,
      foreignRecords: 0,
      identifiers: 0,
    });
  });

  it('feed and snapshot leave the redacted operator out, and both sides still reconcile', async () => {
    const feed = await getPage(ex.gw('PE'), ex.admins, 'CL', '/feed?limit=1000');
    const fed = feed.records.map((j) => payloadOf(j).operator.aeoId);
    expect(fed).not.toContain(op.gone);
    expect(fed.filter((a) => a === op.recent)).toHaveLength(2);
    const snapshot = await getPage(ex.gw('PE'), ex.admins, 'CL', '/snapshot?limit=1000');
    expect(snapshot.records.map((j) => payloadOf(j).operator.aeoId).sort()).toEqual(
      [op.kept, op.recent].sort(),
    );
    expect(snapshot.count).toBe(2);
    expect(snapshot.digest).toBe(digestOfRecords(snapshot.records));
    const res = await httpRequest(`${ex.gw('CL').gateway.apiUrl}/api/v1/partners/PE/reconcile`, {
      method: 'POST',
      headers: bearer(API_TOKENS.operator),
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ inSync: true, localCount: 2, partnerCount: 2 });
  });

  it('lookups still answer withdrawn for the redacted operator after the read model reloads', async () => {
    await ex.stop('CL');
    await ex.start('CL');
    const res = await httpRequest(`${ex.gw('CL').gateway.apiUrl}/api/v1/operators/PE/${op.gone}`, {
      method: 'GET',
      headers: bearer(BORDER),
    });
    expect(res.status).toBe(200);
    expect(res.text).not.toContain(`Operator ${op.gone}`);
    expect(JSON.parse(res.text)).toMatchObject({
      recognised: false,
      operator: { aeoId: op.gone, status: 'withdrawn' },
    });
  });
});
