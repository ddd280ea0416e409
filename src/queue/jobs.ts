/**
 * The gateway's two kinds of job and their versioned payloads. A job only carries work: which outbox rows to
 * deliver. What to send, and whether it was sent, is read from PostgreSQL.
 */
import { ADMIN_ID_PATTERN } from '../protocol/names.ts';
import type { JobKind, Parsed } from './job-kind.ts';

/** Queue names; one delivery queue per partner (`delivery-CL`), worked one job at a time, in outbox order. */
export const QUEUE_NAMES = { delivery: 'delivery', notifications: 'notifications' } as const;

export const JOB_NAMES = { deliverBatch: 'deliver-batch', notify: 'notify' } as const;

export function deliveryQueueName(partner: string): string {
  return `${QUEUE_NAMES.delivery}-${partner}`;
}

/** A batch of a partner's outbox rows: ids `firstId` to `lastId` that the relay marked with this job's id. */
export interface DeliveryJob {
  v: 1;
  partner: string;
  firstId: number;
  lastId: number;
}

export function deliveryJobId(job: Pick<DeliveryJob, 'partner' | 'firstId' | 'lastId'>): string {
  return `${job.partner}-${job.firstId}-${job.lastId}`;
}

const PARTNER = new RegExp(ADMIN_ID_PATTERN);
const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

/** The members of a job's data as a record, or why it is not one with exactly `members`. */
function membersOf(data: unknown, members: readonly string[]): Record<string, unknown> | string {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'job data is not an object';
  const d = data as Record<string, unknown>;
  const extra = Object.keys(d).filter((k) => !members.includes(k));
  if (extra.length > 0) return `unknown members ${extra.slice(0, 5).join(', ')}`;
  if (d.v !== 1) return 'job data version is not 1';
  return d;
}

function checkedId<T>(kind: JobKind<T>, job: T, jobId: string | undefined): Parsed<T> {
  if (jobId !== kind.jobId(job))
    return { ok: false, reason: `job id ${String(jobId).slice(0, 40)} does not match its data` };
  return { ok: true, value: job };
}

export const DELIVERY_JOBS: JobKind<DeliveryJob> = {
  label: 'delivery',
  jobName: JOB_NAMES.deliverBatch,
  queueName: deliveryQueueName,
  keyOf: (job) => job.partner,
  jobId: deliveryJobId,
  parse(data, queuePartner, jobId) {
    const d = membersOf(data, ['v', 'partner', 'firstId', 'lastId']);
    if (typeof d === 'string') return { ok: false, reason: d };
    if (typeof d.partner !== 'string' || !PARTNER.test(d.partner)) {
      return { ok: false, reason: 'partner is not an adminId' };
    }
    if (d.partner !== queuePartner)
      return { ok: false, reason: `job for ${d.partner} in the queue of ${queuePartner}` };
    if (!isId(d.firstId) || !isId(d.lastId) || d.firstId > d.lastId) {
      return { ok: false, reason: 'firstId and lastId are not an id range' };
    }
    return checkedId(
      DELIVERY_JOBS,
      { v: 1, partner: d.partner, firstId: d.firstId, lastId: d.lastId },
      jobId,
    );
  },
};

/** One notification row. Per-operator order is the relay's, so the queue may run several jobs at once. */
export interface NotificationJob {
  v: 1;
  id: number;
}

/** The one key of the notifications queue. */
export const NOTIFICATIONS_KEY = 'all';

export function notificationJobId(id: number): string {
  return `notification-${id}`;
}

export const NOTIFICATION_JOBS: JobKind<NotificationJob> = {
  label: 'notification',
  jobName: JOB_NAMES.notify,
  queueName: () => QUEUE_NAMES.notifications,
  keyOf: () => NOTIFICATIONS_KEY,
  jobId: (job) => notificationJobId(job.id),
  parse(data, _key, jobId) {
    const d = membersOf(data, ['v', 'id']);
    if (typeof d === 'string') return { ok: false, reason: d };
    if (!isId(d.id)) return { ok: false, reason: 'id is not a row id' };
    return checkedId(NOTIFICATION_JOBS, { v: 1, id: d.id }, jobId);
  },
};

/**
 * A batch of one subscription's notification rows, at most one per operator (the relay's ordering rule): ids
 * `firstId` to `lastId` that the relay marked with this job's id. Rows are read by that id, never from the job.
 */
export interface NotificationBatchJob {
  v: 1;
  subscription: string;
  firstId: number;
  lastId: number;
}

export function notificationBatchJobId(
  job: Pick<NotificationBatchJob, 'subscription' | 'firstId' | 'lastId'>,
): string {
  return `notification-${job.subscription}-${job.firstId}-${job.lastId}`;
}

const SUBSCRIPTION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The notifications queue's jobs: batches, and single rows as an earlier version enqueued them (still worked,
 * so that jobs in Redis across an upgrade are not taken for corrupt ones).
 */
export const NOTIFICATION_BATCH_JOBS: JobKind<NotificationBatchJob | NotificationJob> = {
  label: 'notification',
  jobName: JOB_NAMES.notify,
  queueName: () => QUEUE_NAMES.notifications,
  keyOf: () => NOTIFICATIONS_KEY,
  jobId: (job) => ('id' in job ? notificationJobId(job.id) : notificationBatchJobId(job)),
  parse(data, key, jobId) {
    if (typeof data === 'object' && data !== null && 'id' in data) {
      return NOTIFICATION_JOBS.parse(data, key, jobId);
    }
    const d = membersOf(data, ['v', 'subscription', 'firstId', 'lastId']);
    if (typeof d === 'string') return { ok: false, reason: d };
    if (typeof d.subscription !== 'string' || !SUBSCRIPTION_ID.test(d.subscription)) {
      return { ok: false, reason: 'subscription is not a subscription id' };
    }
    if (!isId(d.firstId) || !isId(d.lastId) || d.firstId > d.lastId) {
      return { ok: false, reason: 'firstId and lastId are not an id range' };
    }
    const job = { v: 1, subscription: d.subscription, firstId: d.firstId, lastId: d.lastId } as const;
    return checkedId(NOTIFICATION_BATCH_JOBS, job, jobId);
  },
};
