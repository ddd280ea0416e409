/**
 * The monitoring report of one MRA (one partner) over one period, both directions (docs/monitoring.md). The
 * JSON answer of GET /api/v1/monitoring/report, the source of its CSV and of its HTML page. Counts are
 * integers; times are RFC 3339 UTC; dates YYYY-MM-DD. A figure the gateway cannot know is null, never 0.
 */
import type { Period, SummaryFigures } from '../protocol/monitoring-summary.ts';

export const REPORT_SCHEMA = 'mra-report/1';

export type Counts = Record<string, number>;

export interface LatencyPercentiles {
  /** How many measurements the percentiles are taken over. */
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** The MRA's terms as configured, from the moment the gateway first ran with them. */
export interface MraTermsVersion {
  /** When the gateway first started with these terms. */
  since: string;
  /** Until the next amendment; null: still in force. */
  until: string | null;
  /** SHA-256 (lowercase hex) of the canonical terms. */
  termsSha256: string;
  terms: {
    mraId: string;
    status: string;
    inForceFrom: string;
    inForceUntil: string | null;
    programmes: string[];
    roles: string[];
    benefits: { id: string; description: string; roles: string[] | null }[];
  };
}

/** A signed monitoring summary as held, with the figures exactly as signed. */
export interface HeldSummary {
  summaryId: string;
  reporter: string;
  subject: string;
  revision: number;
  issuedAt: string;
  /** When this gateway received it (received) or signed it (issued). */
  at: string;
  /** base64url SHA-256 of the compact JWS: the handle for the evidence. */
  digest: string;
  figures: SummaryFigures;
}

/** One UTC day, for the charts. */
export interface DailyPoint {
  date: string;
  recordsReceived: number;
  recordsPublished: number;
  lookups: number;
  lookupsRecognised: number;
  benefitsApplied: number;
  benefitsRefused: number;
}

export interface MonitoringReport {
  schema: typeof REPORT_SCHEMA;
  generatedAt: string;
  home: string;
  partner: string;
  mraId: string;
  period: Period;
  /** Every version of the MRA's terms in force at some moment of the period, oldest first. */
  mraTerms: MraTermsVersion[];

  /** Our operators, published to the partner and treated at its border. */
  outbound: {
    /**
     * The national register as it stands now, also for a past period: the register keeps no history of
     * consent or size (docs/monitoring.md).
     */
    register: {
      operators: number;
      consenting: number;
      byStatus: Counts;
      byProgramme: Counts;
      byRole: Counts;
      /** micro, small, medium, large, unknown. */
      bySize: Counts;
      /** Operators with at least one record published to this partner (in its MRA's scope). */
      publishedToPartner: number;
    };
    /** Records published to the partner in the period (outbox rows created), by status. */
    records: { published: number; byStatus: Counts };
    /** Of the records published in the period: where their delivery stands now. */
    deliveries: {
      delivered: number;
      /** Delivered or not, needed more than one attempt. */
      retried: number;
      dead: number;
      /** Pending or retrying now, whatever the period. */
      backlog: number;
      /** The partner's receipts for them: accepted, duplicate, superseded, and rejected by code. */
      outcomes: { accepted: number; duplicate: number; superseded: number; rejected: Counts };
    };
    /** From our record's issuedAt to the partner's verified receipt. */
    latency: { toReceiptMs: LatencyPercentiles };
    /** The partner's latest signed summary about our operators for exactly this period, if any. */
    partnerSummary: HeldSummary | null;
  };

  /** The partner's operators, received by us and treated at our border. */
  inbound: {
    /**
     * What a summary we issue for this period says: the one computation (monitoring/border-figures.ts) for
     * the report and for the signed summary.
     */
    figures: SummaryFigures;
    operators: {
      /** Operators of the partner held (any status) at the end of the period. */
      held: number;
      byStatus: Counts;
    };
    /** Versions accepted in the period whose status differs from the version before (or the first). */
    statusChanges: Counts;
    freshness: {
      lastReceiptAt: string | null;
      lastPulledAt: string | null;
      lastReconciliation: { at: string; inSync: boolean } | null;
    };
    /** Our latest signed summary for the partner for exactly this period, if issued. */
    summaryIssued: HeldSummary | null;
  };

  daily: DailyPoint[];
}
