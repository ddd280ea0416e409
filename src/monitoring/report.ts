/**
 * The monitoring report of one MRA over one period, both directions (docs/monitoring.md): the JSON answer of
 * GET /api/v1/monitoring/report and the source of its CSV and HTML. Reads only what the flows recorded.
 */
import type { GatewayConfig } from '../config/types.ts';
import { GatewayError } from '../errors.ts';
import type { Partner } from '../mra/types.ts';
import type { Sql } from '../store/types.ts';
import { borderFigures } from './border-figures.ts';
import { mraTermsDuring } from './mra-history.ts';
import { checkPeriod, dayAfter, dayStart, periodInstant } from './period.ts';
import { dailyPoints } from './report-daily.ts';
import { freshness, heldOperators, statusChanges } from './report-inbound.ts';
import { outboundFigures, registerFigures } from './report-outbound.ts';
import { partnerSummary, summaryIssued } from './report-summaries.ts';
import { type MonitoringReport, REPORT_SCHEMA } from './report-types.ts';

const ADMIN_ID = /^[A-Z]{2}$/;

export interface ReportDeps {
  store: Sql;
  config: Pick<GatewayConfig, 'home' | 'partners'>;
  clock?: (() => Date) | undefined;
  /** Writes the lookups counted in memory, so that the report includes them (LookupCounts.flush). */
  flushLookups?: (() => Promise<void>) | undefined;
}

export interface ReportQuery {
  partner: unknown;
  from: unknown;
  to: unknown;
}

/** The configured partner of a query; BAD_REQUEST for a malformed one, NOT_FOUND for one not configured. */
export function partnerOf(config: Pick<GatewayConfig, 'partners'>, adminId: unknown): Partner {
  if (typeof adminId !== 'string' || !ADMIN_ID.test(adminId)) {
    throw new GatewayError('BAD_REQUEST', 'partner must be an adminId of two capital letters');
  }
  const partner = config.partners.find((p) => p.adminId === adminId);
  if (partner === undefined) throw new GatewayError('NOT_FOUND', `no partner ${adminId} is configured`);
  return partner;
}

export async function buildReport(deps: ReportDeps, query: ReportQuery): Promise<MonitoringReport> {
  const partner = partnerOf(deps.config, query.partner);
  const period = checkPeriod(query.from, query.to);
  const now = (deps.clock ?? (() => new Date()))();
  await deps.flushLookups?.();
  const sql = deps.store;
  const from = dayStart(period.from);
  const until = dayAfter(period.to);
  const at = periodInstant(period, now);
  const q = {
    partner: partner.adminId,
    from: from.toISOString(),
    until: until.toISOString(),
    at: at.toISOString(),
  };
  const home = deps.config.home.adminId;
  const mraId = partner.mra.id;
  return {
    schema: REPORT_SCHEMA,
    generatedAt: now.toISOString(),
    home,
    partner: partner.adminId,
    mraId,
    period,
    mraTerms: await mraTermsDuring(sql, partner.adminId, from, until),
    outbound: {
      register: await registerFigures(sql, q),
      ...(await outboundFigures(sql, q)),
      partnerSummary: await partnerSummary(sql, partner.adminId, home, mraId, period),
    },
    inbound: {
      figures: await borderFigures(sql, { partner, from: period.from, to: period.to, now }),
      operators: await heldOperators(sql, partner.adminId, at),
      statusChanges: await statusChanges(sql, partner.adminId, q.from, q.until),
      freshness: await freshness(sql, partner.adminId),
      summaryIssued: await summaryIssued(sql, partner.adminId, mraId, period),
    },
    daily: await dailyPoints(sql, partner.adminId, period),
  };
}

export interface ReportService {
  report(query: ReportQuery): Promise<MonitoringReport>;
}

export function createReportService(deps: ReportDeps): ReportService {
  return { report: (query) => buildReport(deps, query) };
}
