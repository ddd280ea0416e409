/**
 * Outbound delivery, second half of publishing: the relay (outbox → jobs) and one worker per partner (jobs →
 * partner → receipt), on Redis. It starts with the gateway when Redis is reachable and refuses to start on a
 * Redis that evicts keys (docs/threats.md 55). When Redis is down at start or goes away later, the gateway runs
 * on (inbound, publishing and the API only need PostgreSQL), readiness says `redis: false`, and delivery
 * resumes when Redis is back, from the outbox (docs/threats.md 53, 54).
 */
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.ts';
import type { GatewayMetrics } from '../metrics/metrics.ts';
import { DELIVERY_JOBS } from '../queue/jobs.ts';
import { retryPolicy } from '../queue/retry.ts';
import { type QueueRuntime, workerCloseGraceMs } from '../queue/runtime.ts';
import { messageOf } from '../queue/timeout.ts';
import type { QueueWorker } from '../queue/worker.ts';
import type { Store } from '../store/types.ts';
import { createDeliverer } from './deliver.ts';
import { createRelay } from './relay.ts';

export interface Delivery {
  /**
   * Moves newly committed outbox rows now rather than at the next relay tick: those of `partners` (a commit that
   * wrote rows for them), or of every partner that has any.
   */
  wake(partners?: Iterable<string>): void;
  /** True when delivery runs and Redis answers. */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

export interface DeliveryDeps {
  config: GatewayConfig;
  store: Store;
  log: Logger;
  /** The gateway's queue runtime; its owner closes it after this flow. */
  queues: QueueRuntime;
  metrics?: GatewayMetrics;
}

type State = 'waiting' | 'running' | 'refused' | 'closed';

export async function startDelivery(deps: DeliveryDeps): Promise<Delivery> {
  const { config, store } = deps;
  const log = deps.log.child({ component: 'delivery' });
  const runtime = deps.queues;
  const retry = retryPolicy(config.outbound.attempts, config.outbound);
  const producer = runtime.producer(DELIVERY_JOBS, retry);
  const workers: QueueWorker[] = [];
  // Partners whose relay was woken as soon as their batch's rows were settled: the queue's own "settled" that
  // follows would only wake it once more for nothing.
  const wokenEarly = new Set<string>();
  // Jobs answered by their partner whose receipt is being kept: the partner's next batch is claimed meanwhile,
  // ready for the worker as soon as this job ends.
  const answered = new Set<string>();
  const deliverer = createDeliverer({
    config,
    store,
    log,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    onAnswered: (partner, jobId) => {
      answered.add(jobId);
      relay.wake(partner);
      return () => answered.delete(jobId);
    },
    onRowsSettled: (partner, jobId) => {
      wokenEarly.add(partner);
      relay.wake(partner, jobId);
    },
  });
  let state: State = 'waiting';
  const relay = createRelay({
    config,
    store,
    answered,
    producer,
    usable: () => state === 'running' && runtime.connected(),
    log,
  });
  let workersStarted = false;

  /** Checks the policy on every connection (a restarted Redis may come back configured otherwise). */
  async function activate(): Promise<void> {
    await runtime.checkPolicy();
    if (state === 'closed') return;
    if (!workersStarted) {
      workersStarted = true;
      for (const partner of config.partners) {
        // One job at a time per partner, so that its batches go out in outbox order.
        workers.push(
          runtime.startWorker({
            kind: DELIVERY_JOBS,
            key: partner.adminId,
            handle: (job, meta) => deliverer.handle(job, meta),
            retry,
            concurrency: 1,
            // A retry, a failure or a job with nothing left to send: the relay looks at this partner again.
            onSettled: () => {
              if (!wokenEarly.delete(partner.adminId)) relay.wake(partner.adminId);
            },
            log,
          }),
        );
      }
    }
    state = 'running';
    relay.wake();
  }

  const onReady = () => {
    if (state === 'closed') return;
    activate().catch((error: unknown) => {
      if (state === 'closed') return;
      state = 'refused';
      log.error({ err: messageOf(error) }, 'Redis refused; outbound delivery stopped until it is fixed');
    });
  };
  if (await runtime.connect(config.redis.commandTimeoutMs)) {
    try {
      await activate();
    } catch (error) {
      await Promise.all(workers.map((w) => w.close(workerCloseGraceMs(config))));
      await deliverer.close();
      throw error;
    }
  } else {
    log.warn('Redis is not reachable; outbound delivery waits for it, inbound and publishing go on');
  }
  runtime.onReady(onReady);
  // Redis may have come up between the failed first connection and the listener above.
  if (state === 'waiting' && runtime.connected()) onReady();
  relay.start(config.outbound.relayIntervalMs);

  let closing: Promise<void> | undefined;
  return {
    wake: (partners) => (partners === undefined ? relay.wake() : relay.wakeKeys(partners)),
    async ready() {
      return state === 'running' && (await runtime.ping());
    },
    close() {
      closing ??= (async () => {
        state = 'closed';
        await relay.stop();
        // The batch in hand finishes before its partner client closes (docs/threats.md 65).
        await Promise.all(workers.map((w) => w.close(workerCloseGraceMs(config))));
        await deliverer.close();
      })();
      return closing;
    },
  };
}
