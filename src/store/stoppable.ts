/**
 * A transaction a stop may cut short (Store.transaction's `signal`): one error for both stores, so a run that
 * was stopped is told apart from one that failed.
 */
import { GatewayError } from '../errors.ts';

export function stoppedRun(cause?: unknown): GatewayError {
  return new GatewayError('SHUTTING_DOWN', 'stopped: the gateway is stopping; the run is rolled back', {
    cause,
  });
}

/** True for the error a transaction stopped by its signal throws. */
export function wasStopped(error: unknown): boolean {
  return error instanceof GatewayError && error.code === 'SHUTTING_DOWN';
}

/** Throws the stop's error when `signal` has been aborted: checked before each statement. */
export function throwIfStopped(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw stoppedRun();
}
