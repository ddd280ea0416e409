/**
 * The gateway's Prometheus metrics: one registry per gateway instance (several gateways may run in one
 * process, so prom-client's global registry is never used). Flows count what they did through the small
 * methods below; what is a state rather than an event (queue depths, read-model freshness, the database
 * pool) is read at scrape time from the sources the composition root attaches (`watch`).
 *
 * Labels are bounded: partners are the configured ones, outcomes and codes are the protocol's closed lists,
 * queues are one per partner plus the notifications queue. Lookups carry no label but their outcome.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type HeapReader, registerHeapGauge } from './heap.ts';

/** A queue's job counts as its runtime reads them. */
export interface QueueDepth {
  queue: string;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

/** The database pool (PostgreSQL only; the embedded store has none). */
export interface PoolState {
  inUse: number;
  idle: number;
  waiting: number;
  /** Statements that failed since the start, whatever the cause. */
  errors: number;
}

/** Per partner: when its latest batch was applied to the read model, and how many operators it holds. */
export interface PartnerFreshness {
  partner: string;
  lastAppliedMs: number | undefined;
  operators: number;
}

/** What is read at scrape time; each part may be absent (no Redis, an embedded store). */
export interface ScrapeSources {
  queues?: () => Promise<readonly QueueDepth[]>;
  freshness?: () => readonly PartnerFreshness[];
  pool?: () => PoolState | undefined;
  /** Cumulative lookup answers by outcome since the start. */
  lookups?: () => ReadonlyMap<string, number>;
  clock?: () => number;
  /** The verification pool's running threads, whose heaps are read at scrape time. */
  verifyThreads?: () => readonly HeapReader[];
}

export type NotificationResult = 'sent' | 'failed' | 'dead';

/** Latency buckets (seconds) of a partner's gateway answering a batch. */
const DELIVERY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Latency buckets (seconds) of a lookup answered from the read model. */
const LOOKUP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
/** A queue that does not answer within this is left out of the scrape rather than holding it. */
const QUEUE_READ_TIMEOUT_MS = 2_000;

export class GatewayMetrics {
  readonly registry = new Registry();
  private sources: ScrapeSources = {};

  private readonly recordsReceived = new Counter({
    name: 'mra_records_received_total',
    help: 'Records received from partners, by receipt outcome and rejection code',
    labelNames: ['partner', 'outcome', 'code'] as const,
    registers: [this.registry],
  });
  private readonly batchesReceived = new Counter({
    name: 'mra_batches_received_total',
    help: 'Batches of records received from partners and committed',
    labelNames: ['partner'] as const,
    registers: [this.registry],
  });
  private readonly receiptsSigned = new Counter({
    name: 'mra_receipts_signed_total',
    help: 'Receipts signed and returned to partners',
    labelNames: ['partner'] as const,
    registers: [this.registry],
  });
  private readonly recordsPublished = new Counter({
    name: 'mra_records_published_total',
    help: 'Signed records of national decisions published for partners',
    registers: [this.registry],
  });
  private readonly deliveries = new Counter({
    name: 'mra_delivery_records_total',
    help: 'Records pushed to partners: sent (each attempt), delivered, retried, dead',
    labelNames: ['partner', 'result'] as const,
    registers: [this.registry],
  });
  private readonly deliveryLatency = new Histogram({
    name: 'mra_delivery_duration_seconds',
    help: "Time a partner's gateway took to answer a pushed batch",
    labelNames: ['partner'] as const,
    buckets: DELIVERY_BUCKETS,
    registers: [this.registry],
  });
  private readonly lookupLatency = new Histogram({
    name: 'mra_lookup_duration_seconds',
    help: 'Time to answer a border lookup request (single or batch)',
    buckets: LOOKUP_BUCKETS,
    registers: [this.registry],
  });
  private readonly notifications = new Counter({
    name: 'mra_notifications_total',
    help: 'Webhook notifications: sent, failed (will retry), dead',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  private readonly refusals = new Counter({
    name: 'mra_partner_refusals_total',
    help: 'Requests of partner gateways refused before their content was judged, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaults?: boolean } = {}) {
    if (options.defaults !== false) {
      collectDefaultMetrics({ register: this.registry });
      registerHeapGauge(this.registry, () => this.sources.verifyThreads?.() ?? []);
    }
    for (const result of ['sent', 'failed', 'dead'] as const) this.notifications.inc({ result }, 0);
    for (const reason of ['certificate', 'request-token'] as const) this.refusals.inc({ reason }, 0);
    const self = this;
    // Counters kept elsewhere (the lookup hot path's own array, the pool's error count), copied at scrape time.
    new Counter({
      name: 'mra_lookups_total',
      help: 'Border lookup answers by outcome since the start (recognised, or the reason it is not)',
      labelNames: ['outcome'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [outcome, n] of self.sources.lookups?.() ?? []) if (n > 0) this.inc({ outcome }, n);
      },
    });
    new Gauge({
      name: 'mra_queue_jobs',
      help: 'Jobs in each queue by state, read from Redis at scrape time',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      // Every process of a cluster reads the same queues: their sum would count each job once per process.
      aggregator: 'max',
      async collect() {
        this.reset();
        for (const q of await self.queueDepths()) {
          for (const state of ['waiting', 'active', 'delayed', 'failed'] as const) {
            this.set({ queue: q.queue, state }, q[state]);
          }
        }
      },
    });
    new Gauge({
      name: 'mra_read_model_age_seconds',
      help: 'Seconds since the latest batch of each partner was applied to the lookup read model (-1: none yet)',
      labelNames: ['partner'] as const,
      registers: [this.registry],
      // Across a cluster's processes, each with its own read model: the one furthest behind.
      aggregator: 'max',
      collect() {
        this.reset();
        const now = self.sources.clock?.() ?? Date.now();
        for (const f of self.sources.freshness?.() ?? []) {
          this.set(
            { partner: f.partner },
            f.lastAppliedMs === undefined ? -1 : Math.max(0, (now - f.lastAppliedMs) / 1000),
          );
        }
      },
    });
    new Gauge({
      name: 'mra_read_model_operators',
      help: 'Operators of each partner held by the lookup read model',
      labelNames: ['partner'] as const,
      registers: [this.registry],
      aggregator: 'min',
      collect() {
        this.reset();
        for (const f of self.sources.freshness?.() ?? []) this.set({ partner: f.partner }, f.operators);
      },
    });
    new Gauge({
      name: 'mra_store_pool_clients',
      help: 'PostgreSQL pool clients: in use, idle, and requests waiting for one',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        const pool = self.sources.pool?.();
        if (pool === undefined) return;
        this.set({ state: 'in_use' }, pool.inUse);
        this.set({ state: 'idle' }, pool.idle);
        this.set({ state: 'waiting' }, pool.waiting);
      },
    });
    new Counter({
      name: 'mra_store_query_errors_total',
      help: 'Database statements that failed since the start (not those refused after an earlier failure)',
      registers: [this.registry],
      collect() {
        this.reset();
        const errors = self.sources.pool?.()?.errors ?? 0;
        if (errors > 0) this.inc(errors);
      },
    });
  }

  /**
   * Starts every per-partner and per-result series at zero, so that dashboards and alerts see them before
   * the first event (a rate over a series that does not exist yet is no rate at all).
   */
  knownPartners(partners: readonly string[]): void {
    for (const partner of partners) {
      this.batchesReceived.inc({ partner }, 0);
      this.receiptsSigned.inc({ partner }, 0);
      this.recordsReceived.inc({ partner, outcome: 'accepted', code: '' }, 0);
      for (const result of ['sent', 'delivered', 'retried', 'dead'] as const) {
        this.deliveries.inc({ partner, result }, 0);
      }
    }
  }

  /** Attaches what is read at scrape time; called once the services exist. */
  watch(sources: ScrapeSources): void {
    this.sources = { ...this.sources, ...sources };
  }

  /** A committed batch of `partner` (null: a sender no certificate or signature identified). */
  batchReceived(partner: string | null, results: readonly { outcome: string; code?: string }[]): void {
    const p = partner ?? 'unknown';
    this.batchesReceived.inc({ partner: p });
    this.receiptsSigned.inc({ partner: p });
    const counts = new Map<string, number>();
    for (const r of results) {
      const key = `${r.outcome}\u0000${r.code ?? ''}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    for (const [key, n] of counts) {
      const [outcome = '', code = ''] = key.split('\u0000');
      this.recordsReceived.inc({ partner: p, outcome, code }, n);
    }
  }

  published(records: number): void {
    if (records > 0) this.recordsPublished.inc(records);
  }

  /** Records of one attempt to push a batch to `partner`. */
  deliveryAttempt(partner: string, records: number): void {
    this.deliveries.inc({ partner, result: 'sent' }, records);
  }

  deliveryAnswered(partner: string, seconds: number): void {
    this.deliveryLatency.observe({ partner }, seconds);
  }

  deliverySettled(partner: string, result: 'delivered' | 'retried' | 'dead', records: number): void {
    this.deliveries.inc({ partner, result }, records);
  }

  lookupAnswered(seconds: number): void {
    this.lookupLatency.observe(seconds);
  }

  notification(result: NotificationResult): void {
    this.notifications.inc({ result });
  }

  partnerRefused(reason: string): void {
    this.refusals.inc({ reason });
  }

  /** The Prometheus text exposition of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private async queueDepths(): Promise<readonly QueueDepth[]> {
    const read = this.sources.queues;
    if (read === undefined) return [];
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<readonly QueueDepth[]>((resolve) => {
      timer = setTimeout(() => resolve([]), QUEUE_READ_TIMEOUT_MS);
    });
    try {
      return await Promise.race([read().catch(() => []), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
