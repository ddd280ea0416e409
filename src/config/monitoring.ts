/**
 * The `monitoring` section: whether the gateway issues each partner's monitoring summary on its own, and for
 * which periods (docs/protocol.md, "Monitoring summaries": a calendar month unless the two agree otherwise).
 */
export const SUMMARY_PERIODS = ['month'] as const;
export type SummaryPeriodKind = (typeof SUMMARY_PERIODS)[number];

export interface MonitoringSettings {
  summaries: {
    /** Issue (and revise) the previous period's summary for every partner, at start and every hour. */
    auto: boolean;
    period: SummaryPeriodKind;
  };
}

export type RawMonitoring = { summaries?: { auto?: boolean; period?: SummaryPeriodKind } };

export function resolveMonitoring(raw: RawMonitoring | undefined): MonitoringSettings {
  return {
    summaries: {
      auto: raw?.summaries?.auto ?? true,
      period: raw?.summaries?.period ?? 'month',
    },
  };
}
