/** Percentiles of measured times, one definition for every benchmark. */
import { fmt } from './format.ts';

/** The smallest value with at least `p` of the values at or below it (nearest rank); NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export interface Distribution {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/** Milliseconds: one decimal below 10, whole above. */
export const ms = (n: number) => (Number.isNaN(n) ? 'n/a' : n < 10 ? n.toFixed(1) : fmt(n));

export const showDistribution = (d: Distribution) =>
  `p50 ${ms(d.p50)} ms, p95 ${ms(d.p95)} ms, p99 ${ms(d.p99)} ms, max ${ms(d.max)} ms (${fmt(d.count)})`;
