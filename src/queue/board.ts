/**
 * The queues as Bull Board sees them, for the queue view on the API listener (src/http/routes/queues.ts).
 * Only this folder touches BullMQ, so the adapters are made here. The view is read-only: jobs only carry
 * which outbox or notification rows to work on, and dead letters are replayed from PostgreSQL
 * (`/api/v1/deliveries/.../replay`, the CLI), never by retrying a job by hand.
 */
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { QueueRuntime } from './runtime.ts';

export type BoardQueue = BullMQAdapter;

/** One read-only adapter per queue the gateway uses, in name order; none while the runtime is closing. */
export function boardQueues(runtime: QueueRuntime): BoardQueue[] {
  return runtime.queues().map((queue) => new BullMQAdapter(queue, { readOnlyMode: true }));
}
