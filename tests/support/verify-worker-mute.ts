/**
 * A verification worker that never says it listens and never answers, for the pool's tests
 * (tests/unit/verify-pool.test.ts): it stands for a worker stuck while starting. It stays alive until terminated.
 */
import { isMainThread } from 'node:worker_threads';

if (!isMainThread) setInterval(() => {}, 60_000);
