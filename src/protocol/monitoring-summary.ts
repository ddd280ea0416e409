/**
 * The monitoring summary of docs/protocol.md ("Monitoring summaries", `mra-monitoring/1`): how the subject's
 * operators were treated at the reporter's border in a period, signed by the reporter. Every member of
 * `figures` and of its objects is optional, but `benefitId`: a figure not known is left out, never 0 or null.
 */
import type { Programme, Role } from './record.ts';

export const MONITORING_SUMMARY_SCHEMA = 'mra-monitoring/1';
export const MONITORING_SUMMARY_TYP = 'mra-monitoring+jws';
/** `mraId` as the protocol writes it. */
export const MRA_ID_PATTERN = '^[A-Za-z0-9._-]{1,64}$';
/** A lookup's or a refusal's reason as the protocol writes it. */
export const REASON_PATTERN = '^[a-z][a-z0-9-]{0,39}$';
/** A summary covers at most this many days, both ends included. */
export const MAX_PERIOD_DAYS = 366;

export interface Period {
  /** YYYY-MM-DD, included. */
  from: string;
  /** YYYY-MM-DD, included. */
  to: string;
}

export interface Percentiles {
  p50?: number;
  p95?: number;
  p99?: number;
}

export interface SizeSplit {
  /** micro, small and medium. */
  sme?: number;
  large?: number;
  /** operators without enterpriseSize. */
  unknown?: number;
}

export interface BySize {
  micro?: number;
  small?: number;
  medium?: number;
  large?: number;
  unknown?: number;
}

export interface BenefitFigures {
  benefitId: string;
  applied?: SizeSplit;
  refused?: SizeSplit;
  refusalReasons?: Record<string, number>;
}

export interface SummaryFigures {
  records?: {
    accepted?: number;
    duplicate?: number;
    superseded?: number;
    rejected?: Record<string, number>;
  };
  operators?: {
    recognised?: number;
    byProgramme?: Partial<Record<Programme, number>>;
    byRole?: Partial<Record<Role, number>>;
    bySize?: BySize;
  };
  lookups?: {
    total?: number;
    recognised?: number;
    notRecognised?: Record<string, number>;
  };
  benefits?: BenefitFigures[];
  latency?: {
    toReceiptMs?: Percentiles;
    toBorderMs?: Percentiles;
  };
}

export interface MonitoringSummary {
  schema: typeof MONITORING_SUMMARY_SCHEMA;
  summaryId: string;
  reporter: string;
  subject: string;
  mraId: string;
  period: Period;
  issuedAt: string;
  revision: number;
  figures: SummaryFigures;
}
