/**
 * Imported first by the process entry (src/cli/main.ts), before anything can start libuv's thread pool: the
 * pool is sized once, at its first use, from UV_THREADPOOL_SIZE. Partners' signatures are verified on it (a
 * batch's verifications side by side, crypto/jws-verify.ts), and libuv's default of 4 threads would leave the
 * cores of a larger machine idle while the main thread waits. So the pool gets at least one thread per core,
 * unless the operator set the variable. A cluster's N processes share the cores: each worker's pool gets its
 * share of them (cluster/primary.ts forks it with workerThreadPoolSize), not cores × cores threads in all.
 */
import { availableParallelism } from 'node:os';

/** libuv's own default; a smaller machine keeps it, as file and DNS work share the pool. */
const LIBUV_DEFAULT = 4;

export function threadPoolSize(env: NodeJS.ProcessEnv, cores: number, processes = 1): string {
  const given = env.UV_THREADPOOL_SIZE;
  if (given !== undefined && given !== '') return given;
  return String(Math.max(LIBUV_DEFAULT, Math.ceil(cores / processes)));
}

/** What the operator set, read before this process's own size is written over it. */
const operatorSet = process.env.UV_THREADPOOL_SIZE;

process.env.UV_THREADPOOL_SIZE = threadPoolSize(process.env, availableParallelism());

/** The UV_THREADPOOL_SIZE a cluster's worker is forked with, one of `processes` on this machine. */
export function workerThreadPoolSize(processes: number): string {
  return threadPoolSize({ UV_THREADPOOL_SIZE: operatorSet }, availableParallelism(), processes);
}
