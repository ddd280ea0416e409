/**
 * A worker whose job outlasts the close's grace is closed by force (src/queue/worker.ts): once its close
 * resolves, no command of it reaches Redis (seen with MONITOR, over several lock renewals and stalled checks),
 * the job it held is neither completed nor failed, and a new worker picks it up as stalled and runs it. And a
 * worker closed as soon as it started leaves no timer behind to hold the process.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { closeRedis, createRedis } from '../../src/queue/connection.ts';
import type { JobVerdict } from '../../src/queue/job-kind.ts';
import { DELIVERY_JOBS, type DeliveryJob, deliveryQueueName, JOB_NAMES } from '../../src/queue/jobs.ts';
import { retryPolicy } from '../../src/queue/retry.ts';
import { type QueueWorker, startWorker } from '../../src/queue/worker.ts';
import { waitFor } from '../support/delivery.ts';

const settings = {
  url: 'redis://127.0.0.1:6379',
  prefix: `worker-close-${process.pid}-${randomUUID().slice(0, 8)}`,
  commandTimeoutMs: 2_000,
};
/** Short, so that the window below spans several lock renewals and stalled checks. */
const STALLED = { lockDurationMs: 600, checkIntervalMs: 200 };
const JOB: DeliveryJob = { v: 1, partner: 'CL', firstId: 1, lastId: 2 };
const JOB_ID = DELIVERY_JOBS.jobId(JOB);

interface Seen {
  args: string[];
}

describe('a worker closed past its grace', () => {
  const admin = createRedis(settings, 'producer');
  const queueRedis = createRedis(settings, 'worker');
  let queue: Queue;
  const lines: { msg?: string; queue?: string }[] = [];
  const log = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) });

  function worker(handle: (job: DeliveryJob, meta: { jobId: string }) => Promise<JobVerdict>): QueueWorker {
    return startWorker(
      {
        kind: DELIVERY_JOBS,
        key: JOB.partner,
        handle,
        retry: retryPolicy(5, { backoffMs: 100, maxBackoffMs: 1_000 }),
        concurrency: 1,
        onSettled: () => {},
        log,
      },
      {
        redis: createRedis(settings, 'worker'),
        prefix: settings.prefix,
        commandTimeoutMs: settings.commandTimeoutMs,
        stalled: STALLED,
      },
    );
  }

  beforeAll(() => {
    queue = new Queue(deliveryQueueName(JOB.partner), {
      connection: queueRedis,
      prefix: settings.prefix,
    });
  });
  afterAll(async () => {
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    await closeRedis(queueRedis, 2_000);
    const [, left] = await admin.scan('0', 'MATCH', `${settings.prefix}:*`, 'COUNT', 10_000);
    if (left.length > 0) await admin.unlink(...left);
    await closeRedis(admin, 2_000);
  });

  it('sends nothing to Redis once its close resolved, and leaves its job to the next worker', async () => {
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let startedWith: string | undefined;
    const hanging = worker(async (_job, meta) => {
      startedWith = meta.jobId;
      await released;
      return { kind: 'done' };
    });
    await queue.add(JOB_NAMES.deliverBatch, JOB, { jobId: JOB_ID });
    await waitFor('the first worker to take the job', async () => startedWith, 10_000);

    const monitor = await admin.monitor();
    const seen: Seen[] = [];
    monitor.on('monitor', (_time: string, args: string[]) => void seen.push({ args }));
    try {
      // The lock renewals of the job in hand show that MONITOR sees this worker's commands.
      await waitFor(
        'a command of the worker in MONITOR',
        async () => (seen.some((s) => s.args.some((a) => a.startsWith(settings.prefix))) ? true : undefined),
        10_000,
      );
      const started = Date.now();
      await hanging.close(400);
      expect(Date.now() - started).toBeLessThan(5_000);
      // Everything MONITOR shows after this mark ran after the close resolved.
      const mark = `mark-${randomUUID()}`;
      await admin.echo(mark);
      // The handler returns now: the job must be neither completed nor failed by the closed worker.
      release();
      await new Promise((resolve) =>
        setTimeout(resolve, 5 * STALLED.checkIntervalMs + STALLED.lockDurationMs),
      );
      await admin.echo(`${mark}-end`);
      await waitFor('the end mark in MONITOR', async () =>
        seen.some((s) => s.args.includes(`${mark}-end`)) ? true : undefined,
      );
      const from = seen.findIndex((s) => s.args.includes(mark));
      expect(from).toBeGreaterThan(0);
      const after = seen.slice(from).filter((s) => s.args.some((a) => a.includes(settings.prefix)));
      // Named by their first words (a Lua script's text would fill the screen).
      expect(after.map((s) => s.args.map((a) => a.slice(0, 60)).join(' '))).toEqual([]);
    } finally {
      monitor.disconnect();
    }
    expect(lines.filter((l) => l.msg?.includes('closed by force')).map((l) => l.queue)).toEqual([
      deliveryQueueName(JOB.partner),
    ]);
    expect(await queue.getJobState(JOB_ID)).toBe('active');

    // A new worker finds the job's lock gone and runs it again.
    let takenOver: string | undefined;
    const next = worker(async (_job, meta) => {
      takenOver = meta.jobId;
      return { kind: 'done' };
    });
    try {
      await waitFor('the next worker to take the stalled job', async () => takenOver, 20_000);
      expect(takenOver).toBe(JOB_ID);
      await waitFor('the job to complete', async () =>
        (await queue.getJobState(JOB_ID)) === 'unknown' ? true : undefined,
      );
    } finally {
      await next.close(2_000);
    }
    // It had nothing in hand: closed without force.
    expect(lines.filter((l) => l.msg?.includes('closed by force'))).toHaveLength(1);
  });
});

describe('a worker closed as it starts', () => {
  it('leaves no timer to hold the process once closed, whenever the close comes', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    // A close soon after the start often comes while the stalled check is asking Redis: BullMQ's loop would
    // then wait its 30 s interval (BullMQ's default, as the gateway runs it) after the close.
    for (const delayMs of [0, 1, 2, 5, 10]) {
      const started = startWorker(
        {
          kind: DELIVERY_JOBS,
          key: JOB.partner,
          handle: async () => ({ kind: 'done' }),
          retry: retryPolicy(5, { backoffMs: 100, maxBackoffMs: 1_000 }),
          concurrency: 1,
          onSettled: () => {},
          log: createLogger('silent'),
        },
        { redis: createRedis(settings, 'worker'), prefix: settings.prefix, commandTimeoutMs: 2_000 },
      );
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      await started.close(2_000);
    }
    // A Redis connection's close keeps a timer until its socket closes, for 2 s at most (ioredis).
    for (let i = 0; i < 60 && timers() > before; i += 1) await new Promise((r) => setTimeout(r, 100));
    expect(timers()).toBeLessThanOrEqual(before);
  });
});
