/**
 * What each fault case prints: one line with its counts, written once the case's assertions have passed, to
 * the test output and to the results file that `npm run faults` (tests/faults/run.ts) reads for its summary.
 */
import { appendFileSync } from 'node:fs';

export const RESULTS_FILE = process.env.FAULTS_RESULTS ?? '.faults-results.jsonl';

export interface CaseLine {
  /** The section-G number of docs/threats.md, e.g. "G54"; "R" for the replica setup. */
  id: string;
  line: string;
}

export function report(id: string, line: string): void {
  const entry: CaseLine = { id, line: `${id} ${line}` };
  console.log(entry.line);
  appendFileSync(RESULTS_FILE, `${JSON.stringify(entry)}\n`);
}

/** Runs `step` at most `count` times or until `ms` have passed, whichever comes first. */
export async function bounded(
  count: number,
  ms: number,
  step: (i: number) => Promise<void>,
): Promise<number> {
  const end = Date.now() + ms;
  let i = 0;
  for (; i < count && Date.now() < end; i += 1) await step(i);
  return i;
}

/** Runs `task` over 0..count-1 with `width` in flight at once; results in order. */
export async function pooled<T>(count: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  const lanes = Array.from({ length: Math.min(width, count) }, async () => {
    for (let i = next++; i < count; i = next++) out[i] = await task(i);
  });
  await Promise.all(lanes);
  return out;
}
