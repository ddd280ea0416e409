/**
 * The breaks verification finds. Every check runs to its end and reports each break here; only the one with
 * the lowest chain seq is kept (memory stays one break whatever the damage), so the first broken link is the
 * one named, whichever table or key order found it. A break that no entry covers (a row inserted behind the
 * gateway's back) has no place in the chain and ranks after every other. On equal seq the break reported
 * first stays: the chain itself is checked first, then the evidence.
 */
import type { AuditBreak } from './verify-chain.ts';

export class Breaks {
  /** How many breaks were found in all. */
  count = 0;
  /** The break with the lowest seq so far. */
  first: AuditBreak | undefined;

  add(b: AuditBreak | undefined): void {
    if (b === undefined) return;
    this.count += 1;
    if (this.first === undefined || rank(b) < rank(this.first)) this.first = b;
  }

  /** `first` and `more` other breaks of the same check, found by one query that returned only the first. */
  addCounted(first: AuditBreak | undefined, total: number): void {
    if (first === undefined) return;
    this.add(first);
    this.count += Math.max(0, total - 1);
  }
}

function rank(b: AuditBreak): number {
  return b.seq ?? Number.POSITIVE_INFINITY;
}
