/**
 * Whether a process's memory stayed flat while it worked through a backlog (docs/threats.md 66), from its RSS
 * sampled once a second. Right after the work starts, V8 sizes its heap for the allocation rate and the RSS
 * rises for some tens of seconds, then holds; how much of the run that rise covers depends on how fast the run
 * is. A leak per record keeps growing to the end. So the median of the last third of the samples is compared
 * with the median of the middle third, past the rise (medians, so that one collection's spike does not decide):
 * a leak of 2 KB a record over a third of a 100,000-record backlog exceeds the bound, the heap's own sizing
 * does not.
 */
const MIB = 1024 * 1024;

/** What the peak may reach over the first sample: the drain never holds the backlog at once. */
export const RSS_GROWTH_BOUND = 256 * MIB;
/** Growth of the last third's median over the middle third's. */
export const LATE_GROWTH_BOUND = 64 * MIB;

export interface MemoryGrowth {
  start: number;
  peak: number;
  /** The last third's median minus the middle third's (0 when it fell). */
  late: number;
}

export function memoryGrowth(samples: readonly number[]): MemoryGrowth {
  if (samples.length < 3) throw new Error(`too few memory samples (${samples.length}) to judge the drain`);
  const third = Math.floor(samples.length / 3);
  const middle = median(samples.slice(third, 2 * third));
  const last = median(samples.slice(2 * third));
  return { start: samples[0]!, peak: Math.max(...samples), late: Math.max(0, last - middle) };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
