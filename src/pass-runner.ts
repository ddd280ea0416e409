/**
 * Runs a background pass (a relay over an outbox) on demand and on a timer, never two at once: a wake during a
 * pass is folded into one more pass after it, so a burst of commits costs one or two passes, not one each.
 */
export interface PassRunner {
  /** Asks for a pass soon. */
  wake(): void;
  /** Wakes every `intervalMs` (unreferenced: it never keeps the process alive) and once now. */
  start(intervalMs: number): void;
  /** No new pass starts; resolves when the one under way has finished. */
  stop(): Promise<void>;
  /** Resolves when no pass is under way. */
  settled(): Promise<void>;
  readonly stopped: boolean;
}

export function createPassRunner(pass: () => Promise<void>): PassRunner {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  function wake(): void {
    if (stopped) return;
    if (running !== undefined) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        await pass();
      } while (again && !stopped);
    })().finally(() => {
      running = undefined;
    });
  }

  return {
    wake,
    start(intervalMs) {
      timer ??= setInterval(wake, intervalMs);
      timer.unref();
      wake();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
    async settled() {
      await running;
    },
    get stopped() {
      return stopped;
    },
  };
}
