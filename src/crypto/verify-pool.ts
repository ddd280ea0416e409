/**
 * The verification pool: worker threads (verify-worker.ts) that verify signatures synchronously, a batch's
 * signatures split across them, each part sent as one transferred buffer and answered with one message. On the
 * main thread a signature then costs the copy of its signing input and a byte of the answer, where a WebCrypto
 * call on libuv's pool cost a promise, a job and a result object each, and its set-up (digest, signature
 * conversion, copies) ran on the main thread too: 5 against 30 to 45 µs a signature, measured side by side. The
 * CPU of a signature in all is about the same either way; the main thread, which carries everything else of a
 * batch, is what is spared (BENCHMARKS.md, "Inbound").
 *
 * Bounded: at most `threads` workers (one per core by default; config/thread-pool.ts sets the process's share),
 * started when first needed, and unreferenced while idle so that they never keep a process alive. A worker that
 * dies (an exit, an uncaught error, a message it could not read, an answer of the wrong length, or no answer
 * within the answer deadline, 60 s once it listens) fails every signature it held with a retryable error, never
 * a verdict: the caller answers 503 and the partner sends the batch again. The worker is terminated, its slot
 * filled anew by the next request, and the process goes on.
 */

import type { KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { GatewayError } from '../errors.ts';
import type { SigningAlgorithm } from './types.ts';
import {
  ALG_CODE,
  ENTRY_WORDS,
  READY_ID,
  VERIFIES,
  type VerifyAnswer,
  type VerifyRequest,
} from './verify-wire.ts';

/** One signature to verify, its key already judged fit for its algorithm (jws-verify.ts). */
export interface PoolItem {
  alg: SigningAlgorithm;
  key: KeyObject;
  /** The signing input: bytes, or the two segments of a compact JWS, joined by a dot as latin1 text. */
  data: Uint8Array | readonly [string, string];
  signature: Uint8Array;
}

export interface VerifyPool {
  /** One verdict per item, in order: true when its signature verifies. */
  verify(items: readonly PoolItem[]): Promise<boolean[]>;
  readonly threads: number;
  /**
   * Starts every worker not yet running, so that the first batch does not wait for them (a worker takes a few
   * hundred milliseconds of CPU to start; seconds on a loaded machine). Idle, they keep no process alive.
   */
  warm(): void;
  /** The workers now running, for tests and diagnostics. */
  workers(): readonly Worker[];
  /** Stops every worker; what they held fails as a dead worker's does. */
  close(): Promise<void>;
}

/** The most workers a pool may have, whatever it is asked for. */
export const MAX_VERIFY_THREADS = 256;
/** Below this many signatures a part is not worth another worker's message. */
const MIN_PART = 32;
const WORKER_URL = new URL('./verify-worker.ts', import.meta.url);

export interface VerifyPoolOptions {
  /**
   * A worker silent this long after it was sent a part (or, for a part sent while it was starting, after it
   * said it listens) is taken as broken: its parts answered NOT_READY. 60 s.
   */
  answerDeadlineMs?: number;
  /** A worker that has not said it listens this long after it was started is taken as broken. 60 s. */
  startDeadlineMs?: number;
  /** The module each worker thread runs: verify-worker.ts, or a stand-in that speaks verify-wire.ts. */
  workerUrl?: URL;
}
/** At most 15 characters, as Linux keeps them. */
export const THREAD_NAME = 'verify-worker';

interface Pending {
  resolve: (verdicts: Uint8Array) => void;
  reject: (error: unknown) => void;
  count: number;
  /** Ends the worker when it has not answered within the pool's answer deadline; armed once it listens. */
  deadline?: NodeJS.Timeout;
}

/** A part of a batch takes milliseconds; a worker silent this long is taken as broken (its part: NOT_READY). */
const ANSWER_DEADLINE_MS = 60_000;

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Signatures sent and not yet answered: where the next part goes. */
  load: number;
  /** It said it listens: a worker takes a few hundred milliseconds to start, seconds on a loaded machine. */
  ready: boolean;
  dead: boolean;
  /** Takes the worker out of the pool, failing its pending parts with a retryable NOT_READY. */
  die: (why: string) => void;
}

export function createVerifyPool(threads: number, options: VerifyPoolOptions = {}): VerifyPool {
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_VERIFY_THREADS)
    throw new RangeError(`a verification pool has 1 to ${MAX_VERIFY_THREADS} threads`);
  const {
    answerDeadlineMs = ANSWER_DEADLINE_MS,
    startDeadlineMs = ANSWER_DEADLINE_MS,
    workerUrl = WORKER_URL,
  } = options;
  for (const ms of [answerDeadlineMs, startDeadlineMs])
    if (!Number.isInteger(ms) || ms < 1)
      throw new RangeError('a verification pool deadline is a whole number of milliseconds');
  const slots: Slot[] = [];
  let nextId = 1;

  function start(): Slot {
    // No flags of the process (an --input-type or --eval of its own would stop the worker from loading); the
    // name is the thread's, as /proc and profilers show it.
    const worker = new Worker(workerUrl, { name: THREAD_NAME, execArgv: [] });
    const slot: Slot = { worker, pending: new Map(), load: 0, ready: false, dead: false, die: () => {} };
    // A worker stuck before it listens (a hung import, a starved thread) would hold its parts for ever.
    const starting = setTimeout(() => die(`not started in ${startDeadlineMs / 1000} s`), startDeadlineMs);
    starting.unref();
    worker.on('message', (answer: VerifyAnswer) => {
      if (answer.id === READY_ID) {
        clearTimeout(starting);
        slot.ready = true;
        for (const pending of slot.pending.values()) arm(slot, pending);
        return;
      }
      const pending = slot.pending.get(answer.id);
      if (pending === undefined) return;
      // Verdicts are matched to signatures by position: an answer of another length is a broken worker.
      if (!(answer.verdicts instanceof Uint8Array) || answer.verdicts.length !== pending.count) {
        die('an answer of the wrong length');
        return;
      }
      slot.pending.delete(answer.id);
      clearTimeout(pending.deadline);
      slot.load -= pending.count;
      if (slot.pending.size === 0) worker.unref();
      pending.resolve(answer.verdicts);
    });
    const die = (why: string) => {
      if (slot.dead) return;
      slot.dead = true;
      clearTimeout(starting);
      const index = slots.indexOf(slot);
      if (index >= 0) slots.splice(index, 1);
      const error = new GatewayError('NOT_READY', `signature verification was interrupted (${why}); retry`, {
        retryAfterSeconds: 1,
      });
      for (const pending of slot.pending.values()) {
        clearTimeout(pending.deadline);
        pending.reject(error);
      }
      slot.pending.clear();
      void worker.terminate();
    };
    slot.die = die;
    worker.on('error', (error) => die(`worker error: ${error.message}`));
    worker.on('messageerror', () => die('unreadable answer'));
    worker.on('exit', (code) => die(`worker exited with code ${code}`));
    // Unreferenced after its listeners are attached: attaching a 'message' listener references the worker's
    // port again, which would keep an idle process alive.
    worker.unref();
    slots.push(slot);
    return slot;
  }

  /** The `parts` least loaded workers, started as needed up to the bound. */
  function pick(parts: number): Slot[] {
    while (slots.length < Math.min(parts, threads)) start();
    return [...slots].sort((a, b) => a.load - b.load).slice(0, parts);
  }

  function arm(slot: Slot, pending: Pending): void {
    pending.deadline = setTimeout(
      () => slot.die(`no answer in ${answerDeadlineMs / 1000} s`),
      answerDeadlineMs,
    );
    pending.deadline.unref();
  }

  function send(slot: Slot, items: readonly PoolItem[]): Promise<Uint8Array> {
    const request = pack(nextId++, items);
    return new Promise<Uint8Array>((resolve, reject) => {
      const pending: Pending = { resolve, reject, count: items.length };
      if (slot.ready) arm(slot, pending);
      slot.pending.set(request.id, pending);
      slot.load += items.length;
      slot.worker.ref();
      slot.worker.postMessage(request, [request.buffer]);
    });
  }

  return {
    threads,
    async verify(items) {
      if (items.length === 0) return [];
      const parts = Math.max(1, Math.min(threads, Math.ceil(items.length / MIN_PART)));
      const chosen = pick(parts);
      const size = Math.ceil(items.length / chosen.length);
      const answers = await Promise.all(
        chosen.map((slot, i) => send(slot, items.slice(i * size, (i + 1) * size))),
      );
      const verdicts: boolean[] = [];
      for (const part of answers) for (const v of part) verdicts.push(v === VERIFIES);
      return verdicts;
    },
    warm() {
      while (slots.length < threads) start();
    },
    workers: () => slots.map((s) => s.worker),
    async close() {
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}

/** One request: the table, then each signature's signing input and signature, in one buffer to transfer. */
function pack(id: number, items: readonly PoolItem[]): VerifyRequest {
  const keys: KeyObject[] = [];
  const keyIndex = new Map<KeyObject, number>();
  const tableBytes = items.length * ENTRY_WORDS * 4;
  let total = tableBytes;
  for (const item of items) total += dataLength(item.data) + item.signature.length;
  const buffer = new ArrayBuffer(total);
  const table = new Uint32Array(buffer, 0, items.length * ENTRY_WORDS);
  const bytes = Buffer.from(buffer);
  let at = tableBytes;
  for (const [i, item] of items.entries()) {
    let k = keyIndex.get(item.key);
    if (k === undefined) {
      k = keys.push(item.key) - 1;
      keyIndex.set(item.key, k);
    }
    const start = at;
    const { data } = item;
    if (data instanceof Uint8Array) {
      bytes.set(data, at);
      at += data.length;
    } else {
      at += bytes.write(data[0], at, 'latin1');
      bytes[at++] = 0x2e; // '.'
      at += bytes.write(data[1], at, 'latin1');
    }
    const middle = at;
    bytes.set(item.signature, at);
    at += item.signature.length;
    table.set([ALG_CODE[item.alg], k, start, middle, at], i * ENTRY_WORDS);
  }
  return { id, count: items.length, buffer, keys };
}

function dataLength(data: PoolItem['data']): number {
  return data instanceof Uint8Array ? data.length : data[0].length + 1 + data[1].length;
}

let threadsSetting = availableParallelism();
let shared: VerifyPool | undefined;

/** The process's pool size, set before its first use (config/thread-pool.ts); later calls are refused. */
export function setVerifyThreads(threads: number): void {
  if (shared !== undefined) throw new Error('the verification pool has already started');
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_VERIFY_THREADS)
    throw new RangeError(`a verification pool has 1 to ${MAX_VERIFY_THREADS} threads`);
  threadsSetting = threads;
}

/** The process's one pool, made at its first use. */
export function verifyPool(): VerifyPool {
  shared ??= createVerifyPool(threadsSetting);
  return shared;
}
