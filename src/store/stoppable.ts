/**
 * A transaction a stop may cut short (Store.transaction's `signal`): checked before each statement, so that the
 * next statement of a stopped run is never sent; the error is errors.ts's `stoppedRun`.
 */
import { stoppedRun } from '../errors.ts';

export { stoppedRun, wasStopped } from '../errors.ts';

/** Throws the stop's error when `signal` has been aborted. */
export function throwIfStopped(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw stoppedRun();
}
