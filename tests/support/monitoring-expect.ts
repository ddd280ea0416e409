/**
 * Checks every figure of a monitoring report against a side of the scripted exchange, as the model
 * (monitoring-script.ts) works it out: counts exactly, times exactly where the other side signed both ends,
 * within bounds where only one end is signed.
 */
import { expect } from 'vitest';
import type { MonitoringReport } from '../../src/monitoring/report-types.ts';
import type { SummaryFigures } from '../../src/protocol/monitoring-summary.ts';
import {
  add,
  expectedBenefits,
  expectedOperators,
  expectedRegister,
  expectedStatusChanges,
  type FeedbackLine,
  type HeldOperator,
  nearestRankPercentiles,
  recordsOf,
  type ScriptOperator,
  type Status,
} from './monitoring-script.ts';
import { type ExpectedTerms, termsSha256Of } from './monitoring-terms.ts';

/** A time window [lower, upper] in epoch milliseconds, taken around the act that sets a time. */
export type Window = readonly [number, number];

export interface Side {
  home: string;
  partner: string;
  /** The MRA's id, as configured at home. */
  mraId: string;
  /** The one UTC day of the period on which the script ran. */
  activeDay: string;
  /** When home last pulled the partner's feed and last reconciled with it (in sync). */
  pulledAt: Window;
  reconciledAt: Window;
  /** The home register, in the order decided. */
  homeOps: readonly ScriptOperator[];
  /** Programmes of the partner's MRA with home: which of home's records the partner accepts. */
  partnerProgrammes: ReadonlySet<string>;
  /** Home's MRA with the partner now. */
  homeScope: { programmes: ReadonlySet<string>; roles: ReadonlySet<string> };
  /** How many of home's records were delivered only after a retry. */
  retried: number;
  /** The partner's operators held at home, and every version of theirs home accepted (all in the period). */
  held: readonly HeldOperator[];
  accepted: readonly { aeoId: string; version: number; status: Status }[];
  /** What the receipts home signed for the partner's batches say. */
  records: { accepted: number; duplicate: number; superseded: number; rejected: Record<string, number> };
  recordsReceived: number;
  /** The outcome each counted lookup of the partner's operators must have had. */
  lookups: readonly string[];
  feedback: readonly FeedbackLine[];
  benefitIds: readonly string[];
  /** receivedAt − issuedAt of each version accepted, from home's signed receipts and the partner's records. */
  toReceiptMs: readonly number[];
  /** Bounds of the time to home's border systems, per notified version; undefined: none notified. */
  toBorderMs: { lower: number[]; upper: number[] } | undefined;
  /** Bounds of the time from home's issuedAt to its verified receipt, per delivered record. */
  outboundMs: { lower: number[]; upper: number[] };
  lastReceiptAt: string;
  /** Each version of home's MRA terms, oldest first, as configured, and when the gateway started with it. */
  terms: readonly { terms: ExpectedTerms; since: Window }[];
}

function inWindow(at: string | null | undefined, window: Window, what: string) {
  const t = Date.parse(at ?? '');
  expect(
    t,
    `${what} ${at} in [${new Date(window[0]).toISOString()}, ${new Date(window[1]).toISOString()}]`,
  ).toBeGreaterThanOrEqual(window[0]);
  expect(t, `${what} ${at}`).toBeLessThanOrEqual(window[1]);
}

function within(
  actual: number | null | undefined,
  bounds: { lower: number[]; upper: number[] },
  p: 'p50' | 'p95' | 'p99',
) {
  const lo = nearestRankPercentiles(bounds.lower)[p];
  const hi = nearestRankPercentiles(bounds.upper)[p];
  expect(actual, `${p} in [${lo}, ${hi}]`).toBeGreaterThanOrEqual(Math.max(0, lo - 1));
  expect(actual, `${p} in [${lo}, ${hi}]`).toBeLessThanOrEqual(hi + 1);
}

export function checkReport(r: MonitoringReport, s: Side, period: { from: string; to: string }): void {
  expect(r.schema).toBe('mra-report/1');
  expect([r.home, r.partner, r.mraId, r.period]).toEqual([s.home, s.partner, s.mraId, period]);
  expect(r.mraTerms.map((t) => t.terms)).toEqual(s.terms.map((t) => t.terms));
  expect(r.mraTerms.map((t) => t.termsSha256)).toEqual(s.terms.map((t) => termsSha256Of(t.terms)));
  for (const [i, t] of r.mraTerms.entries()) inWindow(t.since, s.terms[i]?.since ?? [0, -1], `terms ${i}`);
  expect(r.mraTerms.map((t) => t.until)).toEqual([...r.mraTerms.slice(1).map((t) => t.since), null]);

  // Outbound: home's register and what it published to the partner.
  const consenting = s.homeOps.filter((o) => o.consent);
  expect(r.outbound.register).toEqual(expectedRegister(s.homeOps, (o) => o.consent));
  const published = consenting.flatMap((o) => recordsOf(o).map((v) => ({ ...v, programme: o.programme })));
  const byStatus: Record<string, number> = {};
  for (const v of published) add(byStatus, v.status);
  expect(r.outbound.records).toEqual({ published: published.length, byStatus });
  const delivered = published.filter((v) => s.partnerProgrammes.has(v.programme)).length;
  const dead = published.length - delivered;
  expect(r.outbound.deliveries).toEqual({
    delivered,
    retried: s.retried,
    dead,
    backlog: 0,
    outcomes: {
      accepted: delivered,
      duplicate: 0,
      superseded: 0,
      rejected: dead === 0 ? {} : { OUT_OF_SCOPE: dead },
    },
  });
  expect(r.outbound.latency.toReceiptMs.count).toBe(delivered);
  for (const p of ['p50', 'p95', 'p99'] as const) within(r.outbound.latency.toReceiptMs[p], s.outboundMs, p);
  expect(r.outbound.partnerSummary).toBeNull();

  // Inbound: the partner's operators at home's border.
  checkFigures(r.inbound.figures, s);

  const heldByStatus: Record<string, number> = { certified: 0, suspended: 0, revoked: 0, withdrawn: 0 };
  for (const h of s.held) add(heldByStatus, h.status);
  expect(r.inbound.operators).toEqual({ held: s.held.length, byStatus: heldByStatus });
  expect(r.inbound.statusChanges).toEqual(expectedStatusChanges(s.accepted));
  const { freshness } = r.inbound;
  expect(freshness.lastReceiptAt).toBe(s.lastReceiptAt);
  inWindow(freshness.lastPulledAt, s.pulledAt, 'lastPulledAt');
  inWindow(freshness.lastReconciliation?.at, s.reconciledAt, 'lastReconciliation');
  expect(freshness.lastReconciliation?.inSync).toBe(true);
  expect(r.inbound.summaryIssued).toBeNull();

  // One point per day: the day the script ran has the period's totals, the others nothing.
  const zero = {
    recordsReceived: 0,
    recordsPublished: 0,
    lookups: 0,
    lookupsRecognised: 0,
    benefitsApplied: 0,
    benefitsRefused: 0,
  };
  const active = {
    recordsReceived: s.recordsReceived,
    recordsPublished: published.length,
    lookups: s.lookups.length,
    lookupsRecognised: s.lookups.filter((o) => o === 'recognised').length,
    benefitsApplied: s.feedback.filter((l) => l.applied).length,
    benefitsRefused: s.feedback.filter((l) => !l.applied).length,
  };
  const days = [period.from, dayAfter(period.from), period.to];
  expect(r.daily).toEqual(days.map((date) => ({ date, ...(date === s.activeDay ? active : zero) })));
}

/** The figures of the partner's operators at home's border: the report's inbound figures, a summary's. */
export function checkFigures(f: SummaryFigures, s: Side): void {
  expect(f.records).toEqual(s.records);
  expect(f.operators).toEqual(expectedOperators(s.held, s.homeScope));
  const notRecognised: Record<string, number> = {};
  for (const o of s.lookups) if (o !== 'recognised') add(notRecognised, o);
  expect(f.lookups).toEqual({
    total: s.lookups.length,
    recognised: s.lookups.filter((o) => o === 'recognised').length,
    notRecognised,
  });
  expect(f.benefits).toEqual(expectedBenefits(s.benefitIds, s.feedback));
  expect(f.latency?.toReceiptMs).toEqual(nearestRankPercentiles(s.toReceiptMs.map((v) => Math.max(0, v))));
  if (s.toBorderMs === undefined) expect(f.latency !== undefined && 'toBorderMs' in f.latency).toBe(false);
  else for (const p of ['p50', 'p95', 'p99'] as const) within(f.latency?.toBorderMs?.[p], s.toBorderMs, p);
}

function dayAfter(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}
