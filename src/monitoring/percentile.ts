/** Latency percentiles by the nearest-rank method: always a measured value, never an interpolation. */
import type { Percentiles } from '../protocol/monitoring-summary.ts';

/** The rank (1-based) of the nearest-rank p-th percentile (0 < p ≤ 100) among n values. */
const rankOf = (n: number, p: number) => Math.min(n, Math.max(1, Math.ceil((p / 100) * n)));

/** The nearest-rank p-th percentile (0 < p ≤ 100) of values sorted ascending; undefined when there are none. */
export function nearestRank(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[rankOf(sorted.length, p) - 1];
}

/**
 * p50, p95 and p99 of integer milliseconds given as [value, how many times] (a histogram, as a query that
 * counts in the database returns it); undefined when nothing was measured (left out, never 0).
 */
export function percentilesOfCounts(counts: Iterable<readonly [number, number]>): Percentiles | undefined {
  const byValue = new Map<number, number>();
  let total = 0;
  for (const [value, n] of counts) {
    if (!(n > 0)) continue;
    const v = Math.max(0, Math.round(value));
    byValue.set(v, (byValue.get(v) ?? 0) + n);
    total += n;
  }
  if (total === 0) return undefined;
  const sorted = [...byValue].sort((a, b) => a[0] - b[0]);
  const at = (p: number) => {
    const rank = rankOf(total, p);
    let seen = 0;
    for (const [v, n] of sorted) {
      seen += n;
      if (seen >= rank) return v;
    }
    return sorted[sorted.length - 1]?.[0] ?? 0;
  };
  return { p50: at(50), p95: at(95), p99: at(99) };
}

/** p50, p95 and p99 of integer milliseconds; undefined when nothing was measured (left out, never 0). */
export function percentilesOf(values: readonly number[]): Percentiles | undefined {
  return percentilesOfCounts(values.map((v) => [v, 1] as const));
}
