/**
 * Whether a process's memory stayed flat while it worked through a backlog (docs/threats.md 66), from samples
 * taken once a second. The resident set alone cannot tell a leak from V8 sizing its heap: under load the
 * collector runs later, V8 grows the heap it reserves, and the RSS rises for as long as the drain is slow, with
 * nothing kept. So the samples are split into what a leak would grow:
 * - the live JavaScript heap: the lowest heap-used of a stretch is what survived its collections; a leak raises
 *   that floor, garbage does not;
 * - the memory outside V8's heap (RSS minus the heap V8 holds): native allocations, buffers, thread arenas; a
 *   native leak raises its median, a heap that V8 grows or gives back does not move it.
 * Each is compared between the middle third of the drain and the last third. A leak of 2 KB a record over a
 * third of a 100,000-record backlog exceeds either bound; the heap's own sizing does not. The RSS peak over the
 * first sample is bounded as well: the drain never holds the backlog at once.
 */
const MIB = 1024 * 1024;

/** One reading of the process's memory, in bytes. */
export interface MemorySample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
}

/** What the RSS peak may reach over the first sample. */
export const RSS_GROWTH_BOUND = 256 * MIB;
/** Growth of the live heap's floor, last third over middle third. */
export const LIVE_GROWTH_BOUND = 32 * MIB;
/** Growth of the median memory outside V8's heap, last third over middle third. */
export const NATIVE_GROWTH_BOUND = 48 * MIB;

export interface MemoryGrowth {
  start: number;
  peak: number;
  /** The live heap's floor in the last third minus in the middle third (0 when it fell). */
  live: number;
  /** The median RSS outside V8's heap in the last third minus in the middle third (0 when it fell). */
  native: number;
}

export function memoryGrowth(samples: readonly MemorySample[]): MemoryGrowth {
  if (samples.length < 6) throw new Error(`too few memory samples (${samples.length}) to judge the drain`);
  const third = Math.floor(samples.length / 3);
  const middle = samples.slice(third, 2 * third);
  const last = samples.slice(2 * third);
  const floor = (part: readonly MemorySample[]) => Math.min(...part.map((s) => s.heapUsed));
  const outside = (part: readonly MemorySample[]) => median(part.map((s) => s.rss - s.heapTotal));
  return {
    start: samples[0]!.rss,
    peak: Math.max(...samples.map((s) => s.rss)),
    live: Math.max(0, floor(last) - floor(middle)),
    native: Math.max(0, outside(last) - outside(middle)),
  };
}

/** The judgement in one line, in MiB, for the test's report. */
export function describeGrowth(g: MemoryGrowth, samples: number): string {
  const mib = (b: number) => Math.round(b / MIB);
  return (
    `RSS ${mib(g.start)} → peak ${mib(g.peak)} MiB over ${samples} samples; last third over the middle: ` +
    `live heap +${mib(g.live)} MiB, outside the heap +${mib(g.native)} MiB`
  );
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
