/**
 * The `retention` section: how long the personal data of withdrawn operators is kept
 * (src/retention/retention.ts).
 *
 * The default, a year after withdrawal, covers one full annual monitoring review of the MRA and the
 * questions a partner's border may still raise about consignments of the operator's last months; lookups
 * answer `withdrawn` without the name before and after. Past it the exchange needs no name, address or
 * identifier of an operator that no longer holds the status, and the digests kept still prove what was
 * exchanged. An administration whose law sets another period configures it.
 */
export const DEFAULT_WITHDRAWN_PERSONAL_DATA_DAYS = 365;
export const DEFAULT_RETENTION_INTERVAL_MS = 86_400_000;

export interface RetentionSettings {
  /** Days after withdrawal (the record's statusSince) before an operator's personal data is removed. */
  withdrawnPersonalDataDays: number;
  /** How often the gateway runs the retention job; 0: never (the command still runs it). */
  intervalMs: number;
}

export type RawRetention = { withdrawnPersonalDataDays?: number; intervalMs?: number };

export function resolveRetention(raw: RawRetention | undefined): RetentionSettings {
  return {
    withdrawnPersonalDataDays: raw?.withdrawnPersonalDataDays ?? DEFAULT_WITHDRAWN_PERSONAL_DATA_DAYS,
    intervalMs: raw?.intervalMs ?? DEFAULT_RETENTION_INTERVAL_MS,
  };
}
