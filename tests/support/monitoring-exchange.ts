/**
 * Two linked gateways (PE and CL) for the monitoring report test: real HTTP between them, push delivery on
 * Redis, a border system's token on each side, decisions posted as the national system posts them, and
 * readers of what the other side signed (receipts, published records), the independent sources the test
 * computes expected figures from.
 */
import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { MonitoringReport } from '../../src/monitoring/report-types.ts';
import type { Partner } from '../../src/mra/types.ts';
import type { MonitoringSummary } from '../../src/protocol/monitoring-summary.ts';
import type { Receipt } from '../../src/protocol/receipt.ts';
import type { AeoStatusRecord, Programme } from '../../src/protocol/record.ts';
import { signRecord } from '../../src/publishing/sign-record.ts';
import type { Store } from '../../src/store/types.ts';
import { type Exchange, makeExchange, waitFor } from './delivery.ts';
import { API_TOKENS, bearer } from './exchange.ts';
import { type HttpResponse, startTestGateway, type TestGateway } from './gateway.ts';
import type { ScriptOperator } from './monitoring-script.ts';
import { freshRecord, nextVersion } from './records.ts';
import type { Received } from './webhook-receiver.ts';

export const BORDER_TOKEN = randomBytes(32).toString('base64url');
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** PE and CL, with CL's MRA with PE covering `clProgrammes` only; both with a border system client. */
export function makeMonitoringExchange(clProgrammes: Programme[]): Promise<Exchange> {
  return makeExchange(['PE', 'CL'], {
    outbound: { attempts: 40, backoffMs: 50, maxBackoffMs: 300 },
    edit: (id, raw) => {
      raw.apiClients = [
        ...(raw.apiClients ?? []),
        { id: 'border-system', tokenSha256: sha256(BORDER_TOKEN), scopes: ['border'] },
      ];
      if (id === 'CL') {
        for (const p of raw.partners) p.mra.scope = { ...p.mra.scope, programmes: clProgrammes };
      }
    },
  });
}

/** Restarts `id` with the programmes of its MRA with `partner` amended: an amendment of the agreement. */
export async function amendAndRestart(ex: Exchange, id: string, partner: string, programmes: Programme[]) {
  await ex.stop(id);
  const config = ex.admins.get(id).config;
  const partners: Partner[] = config.partners.map((p) =>
    p.adminId === partner ? { ...p, mra: { ...p.mra, programmes: new Set(programmes) } } : p,
  );
  Object.assign(config, { partners });
  await ex.start(id);
}

/** Posts the decisions of `op` (operator `aeoId`) at `id`'s gateway, one by one; fails on refusal. */
export async function decideAll(ex: Exchange, id: string, op: ScriptOperator, aeoId: string): Promise<void> {
  for (const [i, decision] of op.decisions.entries()) {
    const body =
      i === 0
        ? {
            decisionId: crypto.randomUUID(),
            aeoId,
            decision,
            consent: op.consent,
            programme: op.programme,
            certifiedOn: '2025-03-01',
            operator: {
              identifiers: [{ scheme: 'TIN', value: `${aeoId}T` }],
              name: `Operator ${aeoId}`,
              address: { street: 'Av. Principal 100', city: 'Capital', country: id },
              roles: op.roles,
              ...(op.size === undefined ? {} : { enterpriseSize: op.size }),
            },
          }
        : { decisionId: crypto.randomUUID(), aeoId, decision };
    const res = await ex.gw(id).api.post('/api/v1/decisions', body, { headers: bearer(API_TOKENS.operator) });
    if (res.status !== 201) throw new Error(`decision refused: ${res.status} ${res.text.slice(0, 300)}`);
  }
}

/** GETs a path of `id`'s internal API with `token`. */
export function apiGet(ex: Exchange, id: string, path: string, token: string): Promise<HttpResponse> {
  return ex.gw(id).api.request(path, { method: 'GET', headers: bearer(token) });
}

const payload = <T>(jws: string): T =>
  JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as T;

/** The receipts `partner` signed for `store`'s side, decoded. */
export async function receiptsSignedBy(store: Store, partner: string): Promise<Receipt[]> {
  const rows = await store.query<{ receipt_jws: string }>(
    'SELECT receipt_jws FROM outbound_receipt WHERE partner = $1',
    [partner],
  );
  return rows.map((r) => payload<Receipt>(r.receipt_jws));
}

/** issuedAt of every record the side of `store` signed, by recordId, read from the signed records. */
export async function issuedAtOfPublished(store: Store): Promise<Map<string, number>> {
  const rows = await store.query<{ jws: string }>('SELECT jws FROM home_record');
  return new Map(
    rows.map((r) => {
      const p = payload<{ recordId: string; issuedAt: string }>(r.jws);
      return [p.recordId, Date.parse(p.issuedAt)];
    }),
  );
}

/**
 * A batch CL's key signs and the test posts to PE itself, and what each item must come to: a new operator's
 * version 2 (accepted), its version 1 (superseded), a record of `duplicateOf` CL delivered (duplicate), a
 * forged signature, a payload off the schema, and a record of another issuer.
 */
export async function craftedBatch(
  ex: Exchange,
  duplicateOf: string,
): Promise<{ records: AeoStatusRecord[]; jws: string[]; expected: string[] }> {
  const signer = ex.admins.get('CL').config.home.signers[0];
  if (signer === undefined) throw new Error('CL has no signer');
  const base = freshRecord('CL', { version: 2 });
  const z2 = { ...base, operator: { ...base.operator, enterpriseSize: 'small' as const } };
  const z1 = nextVersion(z2, 1);
  const [delivered] = await ex
    .store('CL')
    .query<{ jws: string }>(`SELECT jws FROM home_record WHERE aeo_id = $1 AND version = 1`, [duplicateOf]);
  if (delivered === undefined) throw new Error('cA was not published');
  const good = await signRecord(z2, signer);
  const signed = await signRecord(freshRecord('CL'), signer);
  // The first character of the signature carries six bits of it (the last may carry padding bits only).
  const at = signed.lastIndexOf('.') + 1;
  const tampered = `${signed.slice(0, at)}${signed[at] === 'A' ? 'B' : 'A'}${signed.slice(at + 1)}`;
  const badSchema = await signRecord(
    { ...freshRecord('CL'), programme: 'AEO-X' } as unknown as AeoStatusRecord,
    signer,
  );
  const wrongIssuer = await signRecord(freshRecord('PE'), signer);
  return {
    records: [z2, z1],
    jws: [good, await signRecord(z1, signer), delivered.jws, tampered, badSchema, wrongIssuer],
    expected: [
      'accepted',
      'superseded',
      'duplicate',
      'SIGNATURE_INVALID',
      'SCHEMA_INVALID',
      'ISSUER_MISMATCH',
    ],
  };
}

/**
 * receivedAt − issuedAt of each record a receipt accepted (both ends signed); with `upper`, the bounds
 * [receivedAt, upper] − issuedAt of a time that ends after the receipt was signed.
 */
export function receiptTimes(
  receipts: readonly Receipt[],
  issued: ReadonlyMap<string, number>,
  upper?: number,
) {
  const exact: number[] = [];
  const lower: number[] = [];
  const upperBounds: number[] = [];
  for (const rc of receipts) {
    for (const x of rc.results.filter((y) => y.outcome === 'accepted')) {
      const at = issued.get(x.recordId ?? '');
      if (at === undefined) throw new Error(`no issuedAt for ${x.recordId}`);
      exact.push(Date.parse(rc.receivedAt) - at);
      lower.push(Date.parse(rc.receivedAt) - at);
      if (upper !== undefined) upperBounds.push(upper - at);
    }
  }
  return { exact, bounds: { lower, upper: upperBounds } };
}

/** The latest receivedAt of `receipts`. */
export const lastAt = (receipts: readonly Receipt[]) =>
  new Date(Math.max(...receipts.map((r) => Date.parse(r.receivedAt)))).toISOString();

/** The JSON report of `id` about `query.partner`, read through the API with the monitoring token. */
export async function getReport(
  ex: Exchange,
  id: string,
  query: { partner: string; from: string; to: string },
): Promise<MonitoringReport> {
  const path = `/api/v1/monitoring/report?partner=${query.partner}&from=${query.from}&to=${query.to}`;
  const res = await apiGet(ex, id, path, API_TOKENS.monitoring);
  expect(res.status, res.text.slice(0, 300)).toBe(200);
  return JSON.parse(res.text) as MonitoringReport;
}

/** Waits until no notification of `store`'s gateway is pending or retrying. */
export function notificationsSettled(store: Store): Promise<true> {
  return waitFor('notifications delivered', async () => {
    const [open] = await store.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM notification WHERE state IN ('pending', 'retrying')`,
    );
    return open?.n === '0' ? true : undefined;
  });
}

/**
 * Bounds of the time from a version's issuedAt to its notification being delivered, per notification received:
 * from the signed webhook timestamp (set before sending, whole seconds) to `upper`.
 */
export function borderTimes(
  received: readonly Received[],
  issued: ReadonlyMap<string, number>,
  upper: number,
) {
  const lower: number[] = [];
  const uppers: number[] = [];
  for (const n of received) {
    const body = JSON.parse(n.body) as { data: { evidence: { recordId: string } } };
    const at = issued.get(body.data.evidence.recordId);
    if (at === undefined) throw new Error(`no issuedAt for ${body.data.evidence.recordId}`);
    lower.push(Number(n.headers['webhook-timestamp']) * 1000 - at);
    uppers.push(upper - at);
  }
  return { lower, upper: uppers };
}

/** Pulls the partner's feed, then reconciles with it, at `id`; the window around each. */
export async function pullAndReconcile(
  ex: Exchange,
  id: string,
  partner: string,
): Promise<{ pulledAt: [number, number]; reconciledAt: [number, number] }> {
  const act = async (action: string): Promise<[number, number]> => {
    const before = Date.now();
    const res = await ex.gw(id).api.request(`/api/v1/partners/${partner}/${action}`, {
      method: 'POST',
      headers: bearer(API_TOKENS.operator),
    });
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    return [before, Date.now()];
  };
  return { pulledAt: await act('pull'), reconciledAt: await act('reconcile') };
}

/** Restarts `id` on its port and database with `clock`, outside the exchange: the caller closes it. */
export async function restartWithClock(ex: Exchange, id: string, clock: () => Date): Promise<TestGateway> {
  await ex.stop(id);
  return startTestGateway(ex.admins.get(id).config, 'postgres', { store: ex.store(id), clock });
}

/** The JSON report of `gw` about `query.partner`. */
export async function reportOf(
  gw: TestGateway,
  query: { partner: string; from: string; to: string },
): Promise<MonitoringReport> {
  const path = `/api/v1/monitoring/report?partner=${query.partner}&from=${query.from}&to=${query.to}`;
  const res = await gw.api.request(path, { method: 'GET', headers: bearer(API_TOKENS.monitoring) });
  expect(res.status, res.text.slice(0, 300)).toBe(200);
  return JSON.parse(res.text) as MonitoringReport;
}

/** Issues `gw`'s summary about `partner` for the period through the API (and so pushes it). */
export async function issueThroughApi(
  gw: TestGateway,
  partner: string,
  period: { from: string; to: string },
): Promise<MonitoringSummary> {
  const res = await gw.api.post(
    '/api/v1/monitoring/summaries',
    { partner, ...period },
    { headers: bearer(API_TOKENS.monitoring) },
  );
  expect(res.status, res.text.slice(0, 300)).toBe(201);
  return (JSON.parse(res.text) as { summary: MonitoringSummary }).summary;
}
