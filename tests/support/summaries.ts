/**
 * Monitoring summaries for tests: a summary built as a partner would (every member settable), signed with that
 * partner's real signer, posted to a gateway's `POST /mra/v1/monitoring`, and facts planted for a past day so
 * that a period that has ended has figures to report.
 */
import { randomUUID } from 'node:crypto';
import type { Signer } from '../../src/config/types.ts';
import { signSummary } from '../../src/monitoring/summaries/issue.ts';
import type { MonitoringSummary } from '../../src/protocol/monitoring-summary.ts';
import type { Store } from '../../src/store/types.ts';
import { type HttpResponse, type ReachableGateway, receiptOf, type SentBatch } from './gateway.ts';

/** A summary of `reporter` about `subject`'s operators; overrides replace members whole. */
export function buildSummary(
  who: { reporter: string; subject: string; mraId: string },
  overrides: Partial<MonitoringSummary> = {},
): MonitoringSummary {
  return {
    schema: 'mra-monitoring/1',
    summaryId: randomUUID(),
    reporter: who.reporter,
    subject: who.subject,
    mraId: who.mraId,
    period: { from: '2025-01-01', to: '2025-01-31' },
    issuedAt: new Date().toISOString(),
    revision: 1,
    figures: {
      records: { accepted: 3, duplicate: 0, superseded: 0, rejected: { SCHEMA_INVALID: 1 } },
      operators: {
        recognised: 2,
        byProgramme: { 'AEO-F': 2 },
        byRole: { exporter: 2 },
        bySize: { unknown: 2 },
      },
      lookups: { total: 5, recognised: 4, notRecognised: { suspended: 1 } },
      benefits: [{ benefitId: 'reduced-inspections', applied: { sme: 1 }, refused: {}, refusalReasons: {} }],
    },
    ...overrides,
  };
}

/** Signs any object as a summary would be signed (a malformed payload too). */
export function signAsSummary(payload: object, signer: Signer): Promise<string> {
  return signSummary(payload as MonitoringSummary, signer);
}

export function postSummaries(gw: ReachableGateway, body: unknown): Promise<HttpResponse> {
  return gw.partner.post('/mra/v1/monitoring', body);
}

/** POSTs `{ summaries }` and returns the receipt, failing the test on anything but 200. */
export async function sendSummaries(gw: ReachableGateway, summaries: readonly string[]): Promise<SentBatch> {
  return receiptOf(await postSummaries(gw, { summaries }));
}

/** The UTC day `days` before today. */
export function daysAgo(days: number): string {
  return new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * Border lookups of `issuer`'s operators on a past day, as the lookup service adds its counts to the facts
 * table: the figures of a period that has already ended.
 */
export async function plantLookups(
  store: Store,
  issuer: string,
  day: string,
  counts: Record<string, number>,
): Promise<void> {
  for (const [outcome, count] of Object.entries(counts)) {
    await store.query(
      `INSERT INTO lookup_daily (issuer, day, outcome, count) VALUES ($1, $2, $3, $4)
       ON CONFLICT (issuer, day, outcome) DO UPDATE SET count = lookup_daily.count + EXCLUDED.count`,
      [issuer, day, outcome, count],
    );
  }
}

/** Summaries held as received from `reporter`, by summaryId. */
export async function heldFrom(
  store: Store,
  reporter: string,
): Promise<{ summary_id: string; revision: string; outcome: string; jws: string; receipt_id: string }[]> {
  return store.query(
    `SELECT summary_id::text, revision::text, outcome, jws, receipt_id::text FROM monitoring_summary_in
      WHERE reporter = $1 ORDER BY received_at, revision`,
    [reporter],
  );
}
