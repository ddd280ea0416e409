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

/** A task run on a timer by `every`; stop() waits for a run under way. */
export interface ScheduledTask {
  stop(): Promise<void>;
}

/**
 * Runs `task` after `firstMs`, then every `ms` counted from the end of the last run, so runs never overlap. A
 * failed run is logged and the next one runs all the same. Unreferenced timers: they never keep the process
 * alive on their own.
 */
export function every(
  firstMs: number,
  ms: number,
  task: () => Promise<unknown>,
  name: string,
  log: { error(fields: object, message: string): void },
): ScheduledTask {
  let stopped = false;
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const schedule = (delay: number) => {
    timer = setTimeout(() => {
      running = task()
        .then(
          () => undefined,
          (error: unknown) => log.error({ err: error, task: name }, 'scheduled task failed'),
        )
        .finally(() => {
          running = undefined;
          if (!stopped) schedule(ms);
        });
    }, delay);
    timer.unref();
  };
  schedule(firstMs);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
