/**
 * The two kinds of job share one corrupt-job guard (docs/threats.md 67): data that is not exactly a kind's
 * versioned payload, or whose job id does not match it, is refused with a reason, whichever kind it claims.
 */
import { describe, expect, it } from 'vitest';
import { RetryLater } from '../../src/queue/job-kind.ts';
import {
  DELIVERY_JOBS,
  NOTIFICATION_BATCH_JOBS,
  NOTIFICATION_JOBS,
  NOTIFICATIONS_KEY,
} from '../../src/queue/jobs.ts';
import { retryPolicy } from '../../src/queue/retry.ts';

describe('job kinds', () => {
  it('accepts a delivery batch only in its partner queue and under its own id', () => {
    const job = { v: 1, partner: 'CL', firstId: 3, lastId: 9 } as const;
    expect(DELIVERY_JOBS.jobId(job)).toBe('CL-3-9');
    expect(DELIVERY_JOBS.queueName(DELIVERY_JOBS.keyOf(job))).toBe('delivery-CL');
    expect(DELIVERY_JOBS.parse(job, 'CL', 'CL-3-9')).toEqual({ ok: true, value: job });
    expect(DELIVERY_JOBS.parse(job, 'PE', 'CL-3-9')).toEqual({
      ok: false,
      reason: 'job for CL in the queue of PE',
    });
    expect(DELIVERY_JOBS.parse(job, 'CL', 'CL-3-8')).toMatchObject({ ok: false });
  });

  it('accepts a notification row only under its own id', () => {
    const job = { v: 1, id: 42 } as const;
    expect(NOTIFICATION_JOBS.jobId(job)).toBe('notification-42');
    expect(NOTIFICATION_JOBS.queueName(NOTIFICATION_JOBS.keyOf(job))).toBe('notifications');
    expect(NOTIFICATION_JOBS.parse(job, NOTIFICATIONS_KEY, 'notification-42')).toEqual({
      ok: true,
      value: job,
    });
    expect(NOTIFICATION_JOBS.parse(job, NOTIFICATIONS_KEY, 'notification-43')).toMatchObject({ ok: false });
  });

  it("accepts a notification batch only under its own id, and a single row's job as before", () => {
    const subscription = '0b8e6c1a-5f7d-4c3e-9a2b-1d4f6e8a0c2b';
    const job = { v: 1, subscription, firstId: 5, lastId: 12 } as const;
    const id = `notification-${subscription}-5-12`;
    expect(NOTIFICATION_BATCH_JOBS.jobId(job)).toBe(id);
    expect(NOTIFICATION_BATCH_JOBS.queueName(NOTIFICATION_BATCH_JOBS.keyOf(job))).toBe('notifications');
    expect(NOTIFICATION_BATCH_JOBS.parse(job, NOTIFICATIONS_KEY, id)).toEqual({ ok: true, value: job });
    expect(
      NOTIFICATION_BATCH_JOBS.parse(job, NOTIFICATIONS_KEY, `notification-${subscription}-5-13`),
    ).toMatchObject({ ok: false });
    const row = { v: 1, id: 42 } as const;
    expect(NOTIFICATION_BATCH_JOBS.parse(row, NOTIFICATIONS_KEY, 'notification-42')).toEqual({
      ok: true,
      value: row,
    });
    expect(NOTIFICATION_BATCH_JOBS.parse(row, NOTIFICATIONS_KEY, 'notification-43')).toMatchObject({
      ok: false,
    });
    for (const bad of [
      { ...job, subscription: 'CL' },
      { ...job, subscription: subscription.toUpperCase() },
      { ...job, firstId: 13 },
      { ...job, lastId: 0 },
      { ...job, extra: 1 },
      { ...job, v: 2 },
    ]) {
      const badId = `notification-${bad.subscription}-${bad.firstId}-${bad.lastId}`;
      expect(NOTIFICATION_BATCH_JOBS.parse(bad, NOTIFICATIONS_KEY, badId).ok).toBe(false);
    }
  });

  it.each([
    ['not an object', null, 'job data is not an object'],
    ['an array', [1], 'job data is not an object'],
    ['extra members', { v: 1, id: 1, partner: 'CL', firstId: 1, lastId: 1 }, 'unknown members'],
    ['another version', { v: 2 }, 'job data version is not 1'],
  ])('refuses %s for either kind', (_what, data, reason) => {
    const delivery = DELIVERY_JOBS.parse(data, 'CL', 'CL-1-1');
    const notification = NOTIFICATION_JOBS.parse(data, NOTIFICATIONS_KEY, 'notification-1');
    for (const parsed of [delivery, notification]) {
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.reason).toContain(reason);
    }
  });

  it('refuses ids that are not row ids', () => {
    for (const id of [0, -1, 1.5, '1', Number.MAX_SAFE_INTEGER + 1]) {
      expect(NOTIFICATION_JOBS.parse({ v: 1, id }, NOTIFICATIONS_KEY, `notification-${id}`).ok).toBe(false);
      expect(
        DELIVERY_JOBS.parse({ v: 1, partner: 'CL', firstId: id, lastId: 2 }, 'CL', `CL-${id}-2`).ok,
      ).toBe(false);
    }
  });

  it('retries an unexpected failure with the same jittered backoff for both kinds', () => {
    const policy = retryPolicy(5, { backoffMs: 1_000, maxBackoffMs: 8_000 });
    expect(policy.attempts).toBe(5);
    for (let i = 0; i < 50; i += 1) {
      const first = policy.fallbackDelayMs(1);
      expect(first).toBeGreaterThanOrEqual(500);
      expect(first).toBeLessThanOrEqual(1_000);
      const capped = policy.fallbackDelayMs(10);
      expect(capped).toBeGreaterThanOrEqual(4_000);
      expect(capped).toBeLessThanOrEqual(8_000);
    }
    expect(new RetryLater('busy', 1_234).delayMs).toBe(1_234);
  });
});
