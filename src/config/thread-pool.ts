/**
 * Imported first by the process entry (src/cli/main.ts), before anything can start a thread pool.
 *
 * The verification pool (crypto/verify-pool.ts): the worker threads that verify partners' signatures, a batch's
 * signatures split across them. One per core by default; MRA_VERIFY_THREADS sets the number (1 to 256, or
 * `auto`). A cluster's N processes share the cores: each process gets ⌈cores / N⌉ (at least 1), not one per core
 * each, unless the operator set the number, which every process then uses.
 *
 * The cores are those the process may use (cores.ts).
 *
 * libuv's pool is sized once, at its first use, from UV_THREADPOOL_SIZE; the receipt's signature, file and DNS
 * work run on it. It keeps at least one thread per core, unless the operator set the variable, and each of a
 * cluster's workers gets its share of the cores (cluster/primary.ts forks it with workerThreadPoolSize).
 */
import { MAX_VERIFY_THREADS, setVerifyThreads } from '../crypto/verify-pool.ts';
import { usableCores } from './cores.ts';
import { invalid } from './invalid.ts';
import { PROCESSES_ENV } from './processes.ts';

export const VERIFY_THREADS_ENV = 'MRA_VERIFY_THREADS';

const cores = usableCores();

/** The verification pool's size: the operator's number, else this process's share of the cores. */
export function verifyThreadCount(env: NodeJS.ProcessEnv, cores: number): number {
  const given = env[VERIFY_THREADS_ENV];
  const processes = Number(env[PROCESSES_ENV] ?? '1');
  const share = Math.max(
    1,
    Math.ceil(cores / (Number.isInteger(processes) && processes > 0 ? processes : 1)),
  );
  if (given === undefined || given === '' || given === 'auto') return Math.min(share, MAX_VERIFY_THREADS);
  const n = /^\d{1,3}$/.test(given) ? Number(given) : Number.NaN;
  if (!(n >= 1 && n <= MAX_VERIFY_THREADS))
    throw invalid(`${VERIFY_THREADS_ENV} must be a whole number from 1 to ${MAX_VERIFY_THREADS}, or auto`);
  return n;
}

/** A value of MRA_VERIFY_THREADS that could not be used; the command line stops with it before running. */
let settingError: unknown;
try {
  setVerifyThreads(verifyThreadCount(process.env, cores));
} catch (error) {
  settingError = error;
}

/** The error of this process's thread settings, if any (src/cli/main.ts stops on it with exit code 2). */
export function threadSettingError(): unknown {
  return settingError;
}

/** libuv's own default; a smaller machine keeps it, as file and DNS work share the pool. */
const LIBUV_DEFAULT = 4;

export function threadPoolSize(env: NodeJS.ProcessEnv, cores: number, processes = 1): string {
  const given = env.UV_THREADPOOL_SIZE;
  if (given !== undefined && given !== '') return given;
  return String(Math.max(LIBUV_DEFAULT, Math.ceil(cores / processes)));
}

/** What the operator set, read before this process's own size is written over it. */
const operatorSet = process.env.UV_THREADPOOL_SIZE;

process.env.UV_THREADPOOL_SIZE = threadPoolSize(process.env, cores);

/** The UV_THREADPOOL_SIZE a cluster's worker is forked with, one of `processes` on this machine. */
export function workerThreadPoolSize(processes: number): string {
  return threadPoolSize({ UV_THREADPOOL_SIZE: operatorSet }, cores, processes);
}
