/**
 * A receipt's results counted by outcome and rejection code: kept with each receipt we sign
 * (`inbound_receipt.outcome_counts`) and read back by the monitoring figures, one shape for both.
 */
export interface OutcomeCounts {
  accepted: number;
  duplicate: number;
  superseded: number;
  rejected: Record<string, number>;
}

export function emptyOutcomes(): OutcomeCounts {
  return { accepted: 0, duplicate: 0, superseded: 0, rejected: {} };
}

/** Adds `more` to `into`; a value of another shape (never written by this gateway) adds nothing. */
export function addOutcomes(into: OutcomeCounts, more: unknown): void {
  if (typeof more !== 'object' || more === null) return;
  const m = more as Partial<OutcomeCounts>;
  for (const key of ['accepted', 'duplicate', 'superseded'] as const) {
    const n = m[key];
    if (typeof n === 'number' && Number.isInteger(n) && n > 0) into[key] += n;
  }
  if (typeof m.rejected === 'object' && m.rejected !== null) {
    for (const [code, n] of Object.entries(m.rejected)) {
      if (typeof n === 'number' && Number.isInteger(n) && n > 0)
        into.rejected[code] = (into.rejected[code] ?? 0) + n;
    }
  }
}

/** The counts of a list of per-record outcomes. */
export function countOutcomes(
  results: readonly { outcome: string; code?: string | undefined }[],
): OutcomeCounts {
  const counts = emptyOutcomes();
  for (const r of results) {
    if (r.outcome === 'rejected') {
      const code = r.code ?? 'UNSPECIFIED';
      counts.rejected[code] = (counts.rejected[code] ?? 0) + 1;
    } else if (r.outcome === 'accepted' || r.outcome === 'duplicate' || r.outcome === 'superseded') {
      counts[r.outcome] += 1;
    }
  }
  return counts;
}
