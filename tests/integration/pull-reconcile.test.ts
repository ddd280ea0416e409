/**
 * Reconciliation between two gateways, each on its own PostgreSQL database, over real HTTP: after a run the
 * digest of PE's snapshot for CL equals the digest of what CL holds of PE (in sync), and a deliberate drift
 * at CL (a state row deleted, another altered) is reported with the operators that differ, logged, and
 * listed through the API for the admin and monitoring scopes.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReconciliationReport } from '../../src/inbound/reconcile.ts';
import { createLogger } from '../../src/log.ts';
import type { TestAdmins } from '../support/admins.ts';
import {
  API_TOKENS,
  bearer,
  digestOfLines,
  digestOfRecords,
  getPage,
  makeLinkedAdmins,
  newAeoId,
  publish,
} from '../support/exchange.ts';
import { expectProblem, httpRequest, startTestGateway, type TestGateway } from '../support/gateway.ts';

let admins: TestAdmins;
let pe: TestGateway;
let cl: TestGateway;
let peClosed = false;
const warnings: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    const line = JSON.parse(chunk.toString('utf8')) as Record<string, unknown>;
    // Only this flow's warnings: push delivery also warns here, that Redis is not reachable.
    if (line.level === 40 && /^(reconcil|feed pull)/.test(String(line.msg))) warnings.push(line);
    done();
  },
});
const ids = Array.from({ length: 7 }, () => newAeoId('PE'));

beforeAll(async () => {
  // Snapshot pages of three operators: a reconciliation reads several pages.
  admins = await makeLinkedAdmins(['PE', 'CL'], {
    edit: (_id, raw) => {
      raw.outbound = { ...raw.outbound, batchSize: 3 };
    },
  });
  pe = await startTestGateway(admins.get('PE').config, 'postgres');
  cl = await startTestGateway(admins.get('CL').config, 'postgres', { log: createLogger('warn', sink) });
  for (const id of ids) await publish(pe, id);
  await publish(pe, ids[1]!, { decision: 'suspend' });
  await publish(pe, ids[2]!, { decision: 'withdraw' });
});
afterAll(async () => {
  await cl?.close();
  if (!peClosed) await pe?.close();
  admins.cleanup();
});

const api = (path: string, token: string, method: 'GET' | 'POST' = 'GET') =>
  httpRequest(`${cl.gateway.apiUrl}/api/v1${path}`, { method, headers: bearer(token) });
/** PE's whole snapshot for CL, as CL would read it; bounded. */
async function snapshotOfPe(): Promise<{ digest: string; count: number; records: string[] }> {
  let page = await getPage(pe, admins, 'CL', '/snapshot?limit=1000');
  const records = [...page.records];
  for (let i = 0; i < 10 && page.records.length > 0; i += 1) {
    page = await getPage(pe, admins, 'CL', `/snapshot?after=${page.next}&limit=1000`);
    records.push(...page.records);
  }
  return { digest: page.digest!, count: page.count!, records };
}
/** CL's current state of PE's operators: each row's version and the record it points to. */
async function heldAtCl() {
  const rows = await cl.store.query<{ aeo_id: string; version: string; jws: string }>(
    `SELECT s.aeo_id, s.version::text, r.jws
       FROM operator_state s JOIN inbound_record r ON r.record_id = s.record_id WHERE s.issuer = 'PE'`,
  );
  return rows.map((r) => ({ issuer: 'PE', aeoId: r.aeo_id, version: r.version, jws: r.jws }));
}

describe('reconciliation with a partner', () => {
  it("finds PE's snapshot digest equal to CL's own after a pull", async () => {
    expect((await cl.gateway.sync.pull('PE')).outcomes).toEqual({ accepted: 9 });
    const report = await cl.gateway.sync.reconcile('PE');
    expect(report).toMatchObject({
      partner: 'PE',
      inSync: true,
      partnerCount: 7,
      localCount: 7,
    } satisfies Partial<ReconciliationReport>);
    expect(report.partnerDigest).toBe(report.localDigest);
    expect(report.detail).toMatch(/^snapshot as of \S+Z: in sync$/);

    // The same digest three ways: PE's snapshot, CL's report, and this test's own reading of CL's records.
    const snapshot = await snapshotOfPe();
    expect(snapshot.digest).toBe(report.localDigest);
    expect(digestOfRecords((await heldAtCl()).map((l) => l.jws))).toBe(report.localDigest);
    expect(digestOfRecords(snapshot.records)).toBe(snapshot.digest);
    expect(warnings).toEqual([]);
  });

  it('reports a deliberate drift, naming the operators that differ, and logs a warning', async () => {
    const [gone, altered] = [ids[3]!, ids[5]!];
    await cl.store.query(`DELETE FROM operator_state WHERE issuer = 'PE' AND aeo_id = $1`, [gone]);
    await cl.store.query(`UPDATE operator_state SET version = 9 WHERE issuer = 'PE' AND aeo_id = $1`, [
      altered,
    ]);

    const res = await api('/partners/PE/reconcile', API_TOKENS.operator, 'POST');
    expect(res.status, res.text).toBe(200);
    const report = JSON.parse(res.text) as ReconciliationReport;
    expect(report).toMatchObject({ inSync: false, partnerCount: 7, localCount: 6 });
    expect(report.partnerDigest).toBe((await snapshotOfPe()).digest);
    expect(report.localDigest).toBe(digestOfLines(await heldAtCl()));
    expect(report.localDigest).not.toBe(report.partnerDigest);
    expect(report.detail).toContain('2 operators differ');
    expect(report.detail).toContain(`${gone} (partner v1, here none)`);
    expect(report.detail).toContain(`${altered} (partner v1, here v9)`);
    expect(warnings).toEqual([
      expect.objectContaining({ partner: 'PE', msg: 'reconciliation: drift from the partner' }),
    ]);

    const [row] = await cl.store.query<{ in_sync: boolean; detail: string; partner_count: number }>(
      'SELECT in_sync, detail, partner_count FROM reconciliation WHERE id = $1',
      [report.id],
    );
    expect(row).toEqual({ in_sync: false, detail: report.detail, partner_count: 7 });
  });

  it('lists the reports, newest first, to the admin and monitoring scopes only', async () => {
    for (const token of [API_TOKENS.operator, API_TOKENS.monitoring]) {
      const res = await api('/reconciliation?partner=PE&limit=5', token);
      expect(res.status, res.text).toBe(200);
      const { reports } = JSON.parse(res.text) as { reports: ReconciliationReport[] };
      expect(reports.map((r) => r.inSync)).toEqual([false, true]);
      expect(Number(reports[0]!.id)).toBeGreaterThan(Number(reports[1]!.id));
    }
    const one = JSON.parse((await api('/reconciliation?limit=1', API_TOKENS.monitoring)).text) as {
      reports: ReconciliationReport[];
    };
    expect(one.reports).toHaveLength(1);
    expectProblem(await api('/reconciliation', API_TOKENS.publishOnly), 403, 'FORBIDDEN');
    expectProblem(await api('/reconciliation?limit=0', API_TOKENS.monitoring), 400, 'BAD_REQUEST');
    expectProblem(await api('/reconciliation?partner=pe', API_TOKENS.monitoring), 400, 'BAD_REQUEST');
    expectProblem(await api('/partners/PE/reconcile', API_TOKENS.monitoring, 'POST'), 403, 'FORBIDDEN');
  });

  it('reports a partner it cannot reach as not in sync, saying why', async () => {
    await pe.close();
    peClosed = true;
    const report = await cl.gateway.sync.reconcile('PE');
    expect(report).toMatchObject({ inSync: false, partnerDigest: null, partnerCount: null, localCount: 6 });
    expect(report.detail).toMatch(/^snapshot unusable: .*ECONNREFUSED/);
  });
});
