/**
 * The queues and jobs of the gateway, by name, and the versioned payload of each job type. A job only carries
 * work: which outbox rows to deliver. What to send, and whether it was sent, is read from PostgreSQL.
 */

/** Queue names; one delivery queue per partner (`delivery-CL`), worked one job at a time, in outbox order. */
export const QUEUE_NAMES = { delivery: 'delivery' } as const;

export const JOB_NAMES = { deliverBatch: 'deliver-batch' } as const;

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

/**
 * Deterministic, so that a relay that enqueued a batch but could not record it (crash, lost commit) enqueues
 * the same job again, which BullMQ ignores while the first one exists. BullMQ forbids `:` in custom ids.
 */
export function deliveryJobId(job: Pick<DeliveryJob, 'partner' | 'firstId' | 'lastId'>): string {
  return `${job.partner}-${job.firstId}-${job.lastId}`;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const PARTNER = /^[A-Z]{2}$/;
const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

/**
 * The corrupt-job guard (THREATS.md 67): job data is whatever Redis holds, so it is checked like any other
 * untrusted input before it names a single row; a job that fails is dead-lettered, never retried.
 */
export function parseDeliveryJob(
  data: unknown,
  queuePartner: string,
  jobId: string | undefined,
): Parsed<DeliveryJob> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { ok: false, reason: 'job data is not an object' };
  }
  const d = data as Record<string, unknown>;
  const extra = Object.keys(d).filter((k) => !['v', 'partner', 'firstId', 'lastId'].includes(k));
  if (extra.length > 0) return { ok: false, reason: `unknown members ${extra.slice(0, 5).join(', ')}` };
  if (d.v !== 1) return { ok: false, reason: 'job data version is not 1' };
  if (typeof d.partner !== 'string' || !PARTNER.test(d.partner)) {
    return { ok: false, reason: 'partner is not an adminId' };
  }
  if (d.partner !== queuePartner)
    return { ok: false, reason: `job for ${d.partner} in the queue of ${queuePartner}` };
  if (!isId(d.firstId) || !isId(d.lastId) || d.firstId > d.lastId) {
    return { ok: false, reason: 'firstId and lastId are not an id range' };
  }
  const job: DeliveryJob = { v: 1, partner: d.partner, firstId: d.firstId, lastId: d.lastId };
  if (jobId !== deliveryJobId(job))
    return { ok: false, reason: `job id ${String(jobId).slice(0, 40)} does not match its data` };
  return { ok: true, value: job };
}
