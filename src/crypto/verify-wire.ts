/**
 * What the verification pool (verify-pool.ts) and its worker threads (verify-worker.ts) exchange. A request is
 * one ArrayBuffer, transferred, not copied: a table of ENTRY_WORDS 32-bit words per signature, then the bytes
 * every entry points into (signing input, then signature). Its keys go beside it as KeyObjects, which a worker
 * receives as clones of the same key. The answer is one byte per signature.
 *
 * Imports nothing: the worker loads it as it is.
 */

/** Algorithm codes in the table, in the order of ALLOWED_ALGORITHMS (types.ts). */
export const ALG_CODE = { ES256: 0, EdDSA: 1, PS256: 2 } as const;

/** Per signature: algorithm code, key index, start of the signing input, its end (the signature's start), end. */
export const ENTRY_WORDS = 5;

/** The answer for a signature: 1 when it verifies, 0 when it does not or cannot. */
export const VERIFIES = 1;

/** The id of a worker's first message, an answer to no request (ids start at 1): it listens for requests. */
export const READY_ID = 0;

export interface VerifyRequest {
  id: number;
  count: number;
  buffer: ArrayBuffer;
  /** Public keys, each fit for the algorithm of every entry that names it (checked before sending). */
  keys: readonly unknown[];
}

export interface VerifyAnswer {
  id: number;
  verdicts: Uint8Array;
}
