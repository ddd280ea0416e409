/**
 * What a benchmark must undo however it ends (gateway processes, databases, Redis keys, temporary folders):
 * each undo is registered while its resource lives and run on SIGINT or SIGTERM before the process exits.
 */
export const cleanups = new Set<() => unknown>();

function onInterrupt(signal: NodeJS.Signals): void {
  console.error(`bench: ${signal}, cleaning up`);
  undoAll().finally(() => process.exit(130));
}
process.once('SIGINT', onInterrupt);
process.once('SIGTERM', onInterrupt);

/** Runs `undo` now and forgets it. */
export async function undoNow(undo: () => unknown): Promise<void> {
  try {
    await undo();
  } finally {
    cleanups.delete(undo);
  }
}

/**
 * Runs every registered undo, the latest first (a process is stopped before its database is dropped and its
 * Redis keys deleted), each even if an earlier one failed.
 */
export async function undoAll(): Promise<void> {
  for (const undo of [...cleanups].reverse()) await undoNow(undo).catch(() => {});
}

/** Runs a benchmark's main: a failure is printed and sets exit code 1; everything registered is undone. */
export function runBenchmark(main: () => Promise<void>): void {
  main()
    .catch((error: unknown) => {
      console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    })
    .finally(undoAll);
}
