/**
 * A transaction whose work caught a failed statement and went on: PostgreSQL has aborted it, runs nothing more
 * in it, and answers its COMMIT with a ROLLBACK and no error. Reported as a failure, never as committed: what
 * the work wrote before the failure is gone, and its caller must not acknowledge it.
 */
import { GatewayError } from '../errors.ts';

export function rolledBack(cause?: unknown): GatewayError {
  return new GatewayError(
    'INTERNAL',
    'the transaction was rolled back: one of its statements failed and its work went on',
    cause === undefined ? {} : { cause },
  );
}
