/**
 * The corrupt-job guard holds for notifications as for deliveries (docs/threats.md 67): jobs in the
 * notifications queue whose data is not a notification row, or whose id does not match it, are dead-lettered
 * without being retried, and the gateway's own notifications still reach the receiver.
 */
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_NAMES, QUEUE_NAMES } from '../../src/queue/jobs.ts';
import { waitFor } from '../support/delivery.ts';
import { postTo } from '../support/gateway.ts';
import { bearer, type LookupSetup, makeLookupSetup, type Replica, TOKENS } from '../support/lookup.ts';
import { freshRecord } from '../support/records.ts';
import { startReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

describe('corrupt notification jobs', () => {
  let setup: LookupSetup;
  let a: Replica;
  let receiver: WebhookReceiver;
  let queue: Queue;

  beforeAll(async () => {
    setup = await makeLookupSetup();
    receiver = await startReceiver();
    a = await setup.replica();
    // The gateway's notifications queue, reached as anyone with access to Redis could.
    queue = new Queue(QUEUE_NAMES.notifications, {
      connection: { host: '127.0.0.1', port: 6379 },
      prefix: setup.config.redis.prefix,
    });
  }, 120_000);
  afterAll(async () => {
    await queue?.close();
    await receiver?.stop();
    await setup?.close();
  });

  it('dead-letters them and goes on notifying', async () => {
    const sub = await postTo(
      `${a.gateway.apiUrl}/api/v1/subscriptions`,
      { url: receiver.url('/border') },
      { headers: bearer(TOKENS.border) },
    );
    expect(sub.status, sub.text.slice(0, 300)).toBe(201);
    const corrupt: [string, unknown][] = [
      ['junk-1', { nonsense: true }],
      ['junk-2', { v: 1, id: 'x' }],
      ['notification-7', { v: 1, id: 8 }],
      ['junk-4', { v: 2, id: 1 }],
    ];
    for (const [jobId, data] of corrupt) await queue.add(JOB_NAMES.notify, data, { jobId, attempts: 5 });

    const record = freshRecord('CL');
    await setup.send(a, [record]);
    await waitFor('the notification of the record at the receiver', async () =>
      receiver.on('/border').some((r) => r.body.includes(record.operator.aeoId)) ? true : undefined,
    );
    const failed = await waitFor('the corrupt jobs dead-lettered', async () => {
      const jobs = await queue.getFailed();
      return jobs.length >= corrupt.length ? jobs : undefined;
    });
    const reasons = Object.fromEntries(failed.map((j) => [j.id, j.failedReason]));
    expect(reasons).toEqual({
      'junk-1': 'corrupt job data: unknown members nonsense',
      'junk-2': 'corrupt job data: id is not a row id',
      'notification-7': 'corrupt job data: job id notification-7 does not match its data',
      'junk-4': 'corrupt job data: job data version is not 1',
    });
    // Never retried, though each allowed five attempts.
    expect(failed.map((j) => j.attemptsMade)).toEqual(failed.map(() => 1));
  });
});
