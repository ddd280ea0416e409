/**
 * Two administrations (PE and CL) exchanging over real HTTP, with the facts a monitoring review reads at PE:
 * records pushed both ways through Redis and answered with receipts, a feed pull and a reconciliation, border
 * lookups of CL's operators (1,234 of them, to see thousands written in each locale) and border feedback on
 * benefits. The browser tests read PE's report and dashboard from it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { dayOf } from '../../src/monitoring/period.ts';
import type { MonitoringSummary } from '../../src/protocol/monitoring-summary.ts';
import { type Exchange, makeExchange, settledOutbox, waitFor } from './delivery.ts';
import { API_TOKENS, bearer, newAeoId, publish } from './exchange.ts';
import { httpRequest, type TestGateway } from './gateway.ts';
import { plantLookups } from './summaries.ts';

/** A border system's token at PE (lookups, feedback). */
export const BORDER_TOKEN = randomBytes(32).toString('base64url');
export const LOOKUPS = 1_234;
const DAY_MS = 86_400_000;
/** Seeding the lookups waits for midnight to pass when it is closer than this. */
const MIDNIGHT_MARGIN_MS = 120_000;

export interface MonitoringPair {
  exchange: Exchange;
  pe: TestGateway;
  cl: TestGateway;
  /** CL's operators as PE holds them, with their enterprise size. */
  clOperators: { aeoId: string; size: string | undefined }[];
  /** The UTC day (by the gateways' clock) on which PE counted the LOOKUPS lookups of CL's operators. */
  lookupsDay: string;
  close(): Promise<void>;
}

const SIZES = ['small', 'medium', 'large', undefined] as const;

export async function startMonitoringPair(): Promise<MonitoringPair> {
  const exchange = await makeExchange(['PE', 'CL'], {
    edit: (id, raw) => {
      if (id !== 'PE') return;
      raw.apiClients = [
        ...(raw.apiClients ?? []),
        {
          id: 'border-risk',
          tokenSha256: createHash('sha256').update(BORDER_TOKEN).digest('hex'),
          scopes: ['border'],
        },
      ];
    },
  });
  try {
    const pe = await exchange.start('PE');
    const cl = await exchange.start('CL');
    return { exchange, pe, cl, ...(await seed(pe, cl)), close: () => exchange.close() };
  } catch (error) {
    await exchange.close();
    throw error;
  }
}

/** The UTC day of an instant, as the gateways (which run on this machine's clock) count their days. */
export function utcDay(ms: number): string {
  return dayOf(new Date(ms));
}

/**
 * Returns once a UTC midnight is not about to fall: the lookups must all be counted on one day for the tests
 * to know which. Waits at most MIDNIGHT_MARGIN_MS and a second.
 */
async function clearOfMidnight(): Promise<void> {
  const untilMidnight = DAY_MS - (Date.now() % DAY_MS);
  if (untilMidnight < MIDNIGHT_MARGIN_MS) await new Promise((r) => setTimeout(r, untilMidnight + 1_000));
}

async function seed(
  pe: TestGateway,
  cl: TestGateway,
): Promise<{ clOperators: { aeoId: string; size: string | undefined }[]; lookupsDay: string }> {
  const clOperators = SIZES.map((size) => ({ aeoId: newAeoId('CL'), size }));
  for (const { aeoId, size } of clOperators) {
    await publish(cl, aeoId, {
      operator: {
        identifiers: [{ scheme: 'TIN', value: `${aeoId}T` }],
        name: `Operador <${aeoId}> & Cía`,
        address: { street: 'Av. Providencia 1', city: 'Santiago', country: 'CL' },
        roles: ['exporter', 'importer'],
        ...(size === undefined ? {} : { enterpriseSize: size }),
      },
    });
  }
  for (let i = 0; i < 3; i++) await publish(pe, newAeoId('PE'));
  await settledOutbox(cl.store, 'PE', clOperators.length, 120_000);
  await settledOutbox(pe.store, 'CL', 3, 120_000);
  await waitFor('CL operators held at PE', async () => {
    const rows = await pe.store.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM operator_state WHERE issuer = 'CL'`,
    );
    return Number(rows[0]?.n) === clOperators.length ? true : undefined;
  });
  for (const action of ['pull', 'reconcile']) {
    const res = await httpRequest(`${pe.gateway.apiUrl}/api/v1/partners/CL/${action}`, {
      method: 'POST',
      headers: bearer(API_TOKENS.operator),
    });
    if (res.status !== 200) throw new Error(`${action}: ${res.status} ${res.text.slice(0, 300)}`);
  }
  // One manifest: every fourth line an operator CL never certified (not recognised, reason unknown).
  const items = Array.from({ length: LOOKUPS }, (_, i) =>
    i % 4 === 3
      ? { issuer: 'CL', aeoId: `CLNONE${i}` }
      : { issuer: 'CL', aeoId: clOperators[i % clOperators.length]?.aeoId ?? '' },
  );
  await clearOfMidnight();
  const lookupsDay = utcDay(Date.now());
  const lookups = await pe.api.post('/api/v1/operators/lookup', { items }, { headers: bearer(BORDER_TOKEN) });
  if (lookups.status !== 200) throw new Error(`lookup: ${lookups.status} ${lookups.text.slice(0, 300)}`);
  if (utcDay(Date.now()) !== lookupsDay)
    throw new Error('the lookups took longer than the margin to midnight');
  await postFeedback(
    pe,
    clOperators.flatMap(({ aeoId }, i) => [
      { aeoId, benefit: 'fewer-checks', applied: i !== 1 },
      { aeoId, benefit: 'priority', applied: i % 2 === 0 },
    ]),
  );
  return { clOperators, lookupsDay };
}

let consignment = 0;

/**
 * Border feedback at PE about CL's operators, dated `at` (a minute ago by default); fails on anything but all
 * stored.
 */
export async function postFeedback(
  pe: TestGateway,
  items: readonly { aeoId: string; benefit: string; applied: boolean }[],
  at = new Date(Date.now() - 60_000).toISOString(),
): Promise<void> {
  const body = {
    items: items.map((item) => ({
      issuer: 'CL',
      ...item,
      consignmentRef: `MRN-${process.pid}-${++consignment}`,
      at,
      ...(item.applied ? {} : { reason: 'risk-alert' }),
    })),
  };
  const res = await pe.api.post('/api/v1/feedback', body, { headers: bearer(BORDER_TOKEN) });
  const results =
    res.status === 200 ? (JSON.parse(res.text) as { results: { outcome: string }[] }).results : [];
  if (results.length !== items.length || results.some((r) => r.outcome !== 'stored')) {
    throw new Error(`feedback: ${res.status} ${res.text.slice(0, 300)}`);
  }
}

/** A summary as the issuing gateway's API answers it. */
export interface IssuedSummary {
  summary: MonitoringSummary;
  jws: string;
}

/** Lookups planted on the summaries' day: PE's of CL's operators, CL's of PE's (the figures each signs). */
export const SUMMARY_LOOKUPS = {
  atPe: { recognised: 2_001, revoked: 3 },
  atCl: { recognised: 1_500, suspended: 7 },
} as const;

async function issueSummary(gw: TestGateway, partner: string, day: string): Promise<IssuedSummary> {
  const res = await gw.api.post(
    '/api/v1/monitoring/summaries',
    { partner, from: day, to: day },
    { headers: bearer(API_TOKENS.monitoring) },
  );
  if (res.status !== 201) throw new Error(`issue to ${partner}: ${res.status} ${res.text.slice(0, 300)}`);
  return JSON.parse(res.text) as IssuedSummary;
}

/**
 * Signed summaries both ways for one past day: each side counts lookups of the other's operators that day,
 * CL signs its summary about PE's operators and pushes it to PE, PE signs its own about CL's. Returns once PE
 * holds CL's summary as accepted, so that PE's report of that day has both.
 */
export async function exchangeSummaries(
  pair: MonitoringPair,
  day: string,
): Promise<{ partner: IssuedSummary; ours: IssuedSummary }> {
  await plantLookups(pair.pe.store, 'CL', day, SUMMARY_LOOKUPS.atPe);
  await plantLookups(pair.cl.store, 'PE', day, SUMMARY_LOOKUPS.atCl);
  const partner = await issueSummary(pair.cl, 'PE', day);
  await waitFor(
    "CL's summary accepted at PE",
    async () => {
      const rows = await pair.pe.store.query<{ outcome: string }>(
        'SELECT outcome FROM monitoring_summary_in WHERE summary_id = $1',
        [partner.summary.summaryId],
      );
      return rows[0]?.outcome === 'accepted' ? true : undefined;
    },
    120_000,
    250,
  );
  const ours = await issueSummary(pair.pe, 'CL', day);
  return { partner, ours };
}
