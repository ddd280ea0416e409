/**
 * Whether a process's memory stayed flat while it worked through a backlog (docs/threats.md 66), from samples
 * taken once a second. The resident set alone cannot tell a leak from V8 sizing its heap: under load the
 * collector runs later, V8 grows the heap it reserves, and the RSS rises for as long as the drain is slow, with
 * nothing kept. So the samples are split into what a leak of the gateway's code would grow, each judged by its
 * floor (the lowest reading of a stretch is what survived its collections; a leak raises it, garbage does not):
 * - the live JavaScript heap (heap used);
 * - what it holds outside the heap: buffers and array buffers, which V8 counts (`external`);
 * - handles: sockets, timers, files.
 * Each floor is compared between the middle third of the drain and the last third. A leak of 2 KB a record over
 * a third of a 100,000-record backlog, in the heap or in buffers, exceeds its bound, and so does a handle left
 * open per batch; the heap's own sizing does not. The RSS peak over the first sample is bounded as well: the
 * drain never holds the backlog at once.
 *
 * The RSS outside V8's heaps (minus what the main and verification threads' heaps hold resident,
 * `mra_heap_resident_bytes`) is reported and not judged. It moves with what the allocators keep: glibc keeps
 * the high-water mark of its arenas, and V8 keeps pages it has given up in a pool, so the figure steps up by
 * 20–40 MiB when a heap shrinks or a busy moment passes, and stays there. Judged as a median between thirds it
 * gave +7 to +77 MiB in runs of the same code; only the RSS peak bounds it.
 */
const MIB = 1024 * 1024;

/** One reading of the process's memory, in bytes, and its handles. */
export interface MemorySample {
  rss: number;
  heapUsed: number;
  /** What V8's heaps (main and verification threads) hold resident. */
  heapResident: number;
  /** Buffers and array buffers: memory outside the heap that JavaScript objects hold. */
  external: number;
  handles: number;
}

/** What the RSS peak may reach over the first sample. */
export const RSS_GROWTH_BOUND = 256 * MIB;
/** Growth of the live heap's floor, last third over middle third. */
export const LIVE_GROWTH_BOUND = 32 * MIB;
/** Growth of the floor of buffers held outside the heap, last third over middle third. */
export const BUFFER_GROWTH_BOUND = 32 * MIB;
/** Growth of the floor of open handles, last third over middle third. */
export const HANDLE_GROWTH_BOUND = 50;

export interface MemoryGrowth {
  start: number;
  peak: number;
  /** Each is the floor in the last third minus in the middle third (0 when it fell). */
  live: number;
  buffers: number;
  handles: number;
  /** The median RSS outside V8's heaps, last third minus middle third: reported, not judged. */
  outside: number;
}

export function memoryGrowth(samples: readonly MemorySample[]): MemoryGrowth {
  if (samples.length < 6) throw new Error(`too few memory samples (${samples.length}) to judge the drain`);
  const third = Math.floor(samples.length / 3);
  const middle = samples.slice(third, 2 * third);
  const last = samples.slice(2 * third);
  const floorGrowth = (figure: (s: MemorySample) => number) =>
    Math.max(0, Math.min(...last.map(figure)) - Math.min(...middle.map(figure)));
  const outside = (part: readonly MemorySample[]) => median(part.map((s) => s.rss - s.heapResident));
  return {
    start: samples[0]!.rss,
    peak: Math.max(...samples.map((s) => s.rss)),
    live: floorGrowth((s) => s.heapUsed),
    buffers: floorGrowth((s) => s.external),
    handles: floorGrowth((s) => s.handles),
    outside: Math.max(0, outside(last) - outside(middle)),
  };
}

/** The judgement in one line, in MiB, for the test's report. */
export function describeGrowth(g: MemoryGrowth, samples: number): string {
  const mib = (b: number) => Math.round(b / MIB);
  return (
    `RSS ${mib(g.start)} → peak ${mib(g.peak)} MiB over ${samples} samples; last third over the middle: ` +
    `live heap +${mib(g.live)} MiB, buffers +${mib(g.buffers)} MiB, handles +${g.handles} ` +
    `(RSS outside the heaps +${mib(g.outside)} MiB, not judged)`
  );
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
