/**
 * A stand-in for a cluster's worker (src/cluster/worker.ts) that says it listens and then dies at once, for the
 * primary's restart bound: CRASH_AFTER_MS after its "ready", it exits with code 3.
 */
process.send?.({ mra: 'ready' });
setTimeout(() => process.exit(3), Number(process.env.CRASH_AFTER_MS ?? '20'));
