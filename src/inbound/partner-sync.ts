/**
 * The scheduled side of pulling: every `outbound.pullIntervalMs` each partner's feed is pulled from its last
 * cursor, every `outbound.reconcileIntervalMs` each partner's snapshot is compared with what is held (0
 * disables either). Both can also be run once, by the admin API and by tests.
 *
 * One run per partner at a time in this process: a second request while one runs shares its result, so
 * a timer and an admin call never pull the same page twice over. Replicas may still overlap; that costs
 * `duplicate` outcomes, never a wrong state.
 */

import type { Logger } from 'pino';
import { adminAction, withAudit } from '../audit/chain.ts';
import type { GatewayConfig } from '../config/types.ts';
import { GatewayError } from '../errors.ts';
import type { Partner } from '../mra/types.ts';
import { createPartnerFetcher } from '../partner-client/fetch.ts';
import { every, type ScheduledTask } from '../pass-runner.ts';
import type { Store } from '../store/types.ts';
import { createPuller, type PullReport } from './pull.ts';
import type { InboundService } from './receive.ts';
import { createReconciler, type ReconciliationReport } from './reconcile.ts';

export type { PullReport, ReconciliationReport };

export interface PartnerSync {
  /** `actor`: the API client that asked, chained with the outcome (src/audit/chain.ts); none for timers. */
  pull(adminId: string, actor?: string): Promise<PullReport>;
  pullAll(): Promise<PullReport[]>;
  reconcile(adminId: string, actor?: string): Promise<ReconciliationReport>;
  reconcileAll(): Promise<ReconciliationReport[]>;
  /** Stored reconciliation reports, newest first. */
  reports(filter: { partner?: string; limit: number }): Promise<ReconciliationReport[]>;
  /** Starts the timers the configuration asks for. */
  start(): void;
  /** Stops the timers, waits for runs in progress, closes the partner connections. */
  close(): Promise<void>;
}

export interface PartnerSyncDeps {
  config: GatewayConfig;
  store: Store;
  inbound: InboundService;
  log: Logger;
  clock?: () => Date;
}

export function createPartnerSync(deps: PartnerSyncDeps): PartnerSync {
  const clock = deps.clock ?? (() => new Date());
  const fetcher = createPartnerFetcher(deps.config);
  const puller = createPuller({ ...deps, fetcher, clock });
  const reconciler = createReconciler({ ...deps, fetcher, clock });
  const pulling = new Map<string, Promise<PullReport>>();
  const reconciling = new Map<string, Promise<ReconciliationReport>>();
  const timers: ScheduledTask[] = [];

  function partnerOf(adminId: string): Partner {
    const partner = deps.config.partners.find((p) => p.adminId === adminId);
    if (partner === undefined) throw new GatewayError('NOT_FOUND', `no partner ${adminId} is configured`);
    return partner;
  }

  function once<T>(running: Map<string, Promise<T>>, adminId: string, run: () => Promise<T>): Promise<T> {
    const inFlight = running.get(adminId);
    if (inFlight !== undefined) return inFlight;
    const started = run().finally(() => running.delete(adminId));
    running.set(adminId, started);
    return started;
  }

  /** An action asked through the API, chained once it is done (it commits what it pulls on its own). */
  async function asked<T extends object>(
    actor: string | undefined,
    adminId: string,
    action: string,
    result: T,
  ) {
    if (actor === undefined) return result;
    await withAudit(
      deps.store,
      async () => undefined,
      () => adminAction(actor, adminId, { action, ...result }),
    );
    return result;
  }

  const sync: PartnerSync = {
    async pull(adminId, actor) {
      const partner = partnerOf(adminId);
      return asked(actor, adminId, 'partner-pull', await once(pulling, adminId, () => puller.pull(partner)));
    },
    pullAll: () => Promise.all(deps.config.partners.map((p) => sync.pull(p.adminId))),
    async reconcile(adminId, actor) {
      const partner = partnerOf(adminId);
      const report = await once(reconciling, adminId, () => reconciler.reconcile(partner));
      return asked(actor, adminId, 'partner-reconcile', report);
    },
    reconcileAll: () => Promise.all(deps.config.partners.map((p) => sync.reconcile(p.adminId))),
    reports: (filter) => reconciler.reports(filter),
    start() {
      const { pullIntervalMs, reconcileIntervalMs } = deps.config.outbound;
      if (timers.length > 0) return;
      if (pullIntervalMs > 0)
        timers.push(every(pullIntervalMs, pullIntervalMs, sync.pullAll, 'pull', deps.log));
      if (reconcileIntervalMs > 0) {
        timers.push(
          every(reconcileIntervalMs, reconcileIntervalMs, sync.reconcileAll, 'reconcile', deps.log),
        );
      }
    },
    async close() {
      await Promise.all(timers.map((t) => t.stop()));
      timers.length = 0;
      await Promise.allSettled([...pulling.values(), ...reconciling.values()]);
      await fetcher.close();
    },
  };
  return sync;
}
