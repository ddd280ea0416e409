/**
 * `every` (src/pass-runner.ts): a scheduled task is given the stop's signal, aborted by stop() before it waits for
 * the run under way, so a run that passes it on (Store.transaction) ends early; a run ended by its stop is not
 * logged as a failure, and no run starts after the stop.
 */
import { describe, expect, it } from 'vitest';
import { every } from '../../src/pass-runner.ts';
import { stoppedRun } from '../../src/store/stoppable.ts';

/**
 * A task whose one run lasts until its stop, then fails with `failure`: started, its run under way, then stopped.
 */
async function stoppedDuringRun(failure: () => Error) {
  const errors: unknown[] = [];
  let runs = 0;
  let began: () => void = () => {};
  const running = new Promise<void>((resolve) => {
    began = resolve;
  });
  const task = every(
    0,
    10,
    (stopping) =>
      new Promise<void>((_resolve, reject) => {
        runs++;
        began();
        stopping.addEventListener('abort', () => reject(failure()), { once: true });
      }),
    'probe',
    { error: (fields) => errors.push(fields) },
  );
  await running;
  await task.stop();
  return { errors, runs: () => runs };
}

describe('a scheduled task and its stop', () => {
  it('aborts the signal of the run under way, waits for that run, and logs no failure for it', async () => {
    const { errors, runs } = await stoppedDuringRun(() => stoppedRun());
    expect(runs()).toBe(1);
    expect(errors).toEqual([]);
    await new Promise((r) => setTimeout(r, 50));
    expect(runs()).toBe(1);
  });

  it('still logs a run that fails otherwise while the stop is under way', async () => {
    const { errors } = await stoppedDuringRun(() => new Error('push failed'));
    expect(errors).toHaveLength(1);
  });

  it('logs a failed run that was not stopped, and runs again', async () => {
    const errors: unknown[] = [];
    let runs = 0;
    const task = every(
      0,
      5,
      async () => {
        runs++;
        throw new Error('broken');
      },
      'probe',
      { error: (fields) => errors.push(fields) },
    );
    for (let i = 0; i < 200 && runs < 2; i++) await new Promise((r) => setTimeout(r, 5));
    await task.stop();
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(errors.length).toBeGreaterThanOrEqual(1);
  });
});
