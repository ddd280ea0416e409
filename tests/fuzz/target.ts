/** A fuzz target: a generator of inputs and what one input is run against, throwing a Violation when it breaks. */
import type fc from 'fast-check';
import type { FuzzContext, TargetStats } from './context.ts';

export interface Target {
  name: string;
  /** Share of the inputs of a run, relative to the other targets. */
  weight: number;
  arbitrary: fc.Arbitrary<unknown>;
  run(input: unknown, stats: TargetStats): Promise<void>;
}

export function target<T>(
  name: string,
  weight: number,
  arbitrary: fc.Arbitrary<T>,
  run: (input: T, stats: TargetStats) => Promise<void>,
): Target {
  return { name, weight, arbitrary, run: (input, stats) => run(input as T, stats) };
}

export type TargetsOf = (ctx: FuzzContext) => Target[];
