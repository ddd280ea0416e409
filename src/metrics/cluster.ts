/**
 * The metrics of a cluster of gateway processes (src/cluster): in the primary, the sum of every worker's
 * registry (prom-client's AggregatorRegistry asks each worker over the cluster's IPC channel; gauges that every
 * process reads alike carry their own aggregator in metrics.ts); in a worker, its registry given to that
 * exchange.
 */
import { AggregatorRegistry, type Registry } from 'prom-client';

/** In the primary: renders the sum of the workers' registries, in the Prometheus text format. */
export function workersSum(): { render(): Promise<string>; readonly contentType: string } {
  const aggregator = new AggregatorRegistry();
  return {
    render: () => aggregator.clusterMetrics(),
    get contentType() {
      return aggregator.contentType;
    },
  };
}

/** In a worker: answers the primary's requests with `registry` (and only it). */
export function answerPrimaryWith(registry: Registry): void {
  // Constructing one adds prom-client's listener in a worker; the registries it answers with are global.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
}
