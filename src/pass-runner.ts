/**
 * Runs a background pass (a relay over an outbox) on demand and on a timer, never two at once: a wake during a
 * pass is folded into one more pass after it, so a burst of commits costs one or two passes, not one each.
 */
import { wasStopped } from './errors.ts';
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

/**
 * `pass` is told whether the timer asked for it (since the last pass began): a pass that may skip work on a
 * hint (the outbox relay's keys in flight) does not skip it then.
 */
export function createPassRunner(pass: (timed: boolean) => Promise<void>): PassRunner {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let timed = false;
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
        const byTimer = timed;
        timed = false;
        await pass(byTimer);
      } while (again && !stopped);
    })().finally(() => {
      running = undefined;
    });
  }
  const tick = () => {
    timed = true;
    wake();
  };

  return {
    wake,
    start(intervalMs) {
      timer ??= setInterval(tick, intervalMs);
      timer.unref();
      tick();
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
  /** Given the stop's signal: a task that reads much may pass it to its transaction (Store.transaction). */
  task: (stopping: AbortSignal) => Promise<unknown>,
  name: string,
  log: { error(fields: object, message: string): void },
): ScheduledTask {
  let stopped = false;
  const stopping = new AbortController();
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const schedule = (delay: number) => {
    timer = setTimeout(() => {
      running = task(stopping.signal)
        .then(
          () => undefined,
          (error: unknown) =>
            wasStopped(error) ? undefined : log.error({ err: error, task: name }, 'scheduled task failed'),
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
      stopping.abort();
      await running;
    },
  };
}
