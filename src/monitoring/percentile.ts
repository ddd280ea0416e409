/** Latency percentiles by the nearest-rank method: always a measured value, never an interpolation. */
import type { Percentiles } from '../protocol/monitoring-summary.ts';

/** The nearest-rank p-th percentile (0 < p ≤ 100) of values sorted ascending; undefined when there are none. */
export function nearestRank(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

/** p50, p95 and p99 of integer milliseconds; undefined when nothing was measured (left out, never 0). */
export function percentilesOf(values: readonly number[]): Percentiles | undefined {
  if (values.length === 0) return undefined;
  const sorted = values.map((v) => Math.max(0, Math.round(v))).sort((a, b) => a - b);
  const at = (p: number) => nearestRank(sorted, p) ?? 0;
  return { p50: at(50), p95: at(95), p99: at(99) };
}
