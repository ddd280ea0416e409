/**
 * A verification worker that breaks on cue, for the pool's tests (tests/unit/verify-pool.test.ts): it never
 * answers a request of SILENT_COUNT signatures, answers one of SHORT_COUNT signatures with a verdict too few,
 * and answers every other request as verify-worker.ts does. Imported on the main thread, it only gives its cues.
 */
import { isMainThread, parentPort } from 'node:worker_threads';
import type { VerifyRequest } from '../../src/crypto/verify-wire.ts';

export const SILENT_COUNT = 5;
export const SHORT_COUNT = 6;

const port = parentPort;
if (!isMainThread && port !== null) {
  const { answer } = await import('../../src/crypto/verify-worker.ts');
  // verify-worker.ts listens for requests once loaded; this module answers them instead.
  port.removeAllListeners('message');
  port.on('message', (request: VerifyRequest) => {
    if (request.count === SILENT_COUNT) return;
    const { id, verdicts } = answer(request);
    const sent = request.count === SHORT_COUNT ? verdicts.slice(1) : verdicts;
    port.postMessage({ id, verdicts: sent }, [sent.buffer]);
  });
}
