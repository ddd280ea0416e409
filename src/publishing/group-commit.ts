/**
 * Group commit: calls that arrive while a commit runs wait in memory and are committed together by the next
 * one, at most `max` at a time, in arrival order. One commit runs at a time in this process, so concurrent
 * callers hold one database connection between them, not one each.
 */

/** What became of one item of a group: each caller gets its own result or its own error. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

export function createGroupCommit<T, R>(
  commit: (items: readonly T[]) => Promise<readonly Settled<R>[]>,
  max: number,
): (item: T) => Promise<R> {
  interface Entry {
    item: T;
    resolve: (result: R) => void;
    reject: (error: unknown) => void;
  }
  let waiting: Entry[] = [];
  let running = false;

  async function drain(): Promise<void> {
    running = true;
    while (waiting.length > 0) {
      const taken = waiting.slice(0, max);
      waiting = waiting.slice(taken.length);
      try {
        const settled = await commit(taken.map((e) => e.item));
        taken.forEach((e, i) => {
          const s = settled[i];
          if (s === undefined) e.reject(new Error('the commit answered fewer results than it was given'));
          else if (s.ok) e.resolve(s.value);
          else e.reject(s.error);
        });
      } catch (error) {
        for (const e of taken) e.reject(error);
      }
    }
    running = false;
  }

  return (item: T) =>
    new Promise<R>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      if (!running) void drain();
    });
}
