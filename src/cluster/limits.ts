/**
 * The configuration a cluster's worker runs with. The limits a configuration states are the gateway's: each of
 * N processes enforces its share (rounded up), so that N processes together do not allow N times the
 * configured rate or connections (docs/threats.md 6, 76). A caller whose requests all arrive on one connection
 * reaches one process, and so meets its share: limits are stricter per connection, never looser in all. The
 * metrics listener of its own is the primary's (metrics.ts), so workers leave it out.
 */
import { shareOf } from '../config/processes.ts';
import type { GatewayConfig } from '../config/types.ts';

export { shareOf };

export function workerConfig(config: GatewayConfig, processes: number): GatewayConfig {
  const { metrics: _primaryListens, ...rest } = config;
  const share = (limit: number) => shareOf(limit, processes);
  return {
    ...rest,
    server: {
      ...config.server,
      processes,
      rateLimitPerMinute: share(config.server.rateLimitPerMinute),
      maxConnectionsPerAddress: share(config.server.maxConnectionsPerAddress),
      maxConnections: share(config.server.maxConnections),
    },
    outbound: {
      ...config.outbound,
      // Rounded down, unlike the limits above: n paces together must stay under the partner's limit. 0: no pace.
      requestsPerMinute:
        config.outbound.requestsPerMinute === 0
          ? 0
          : Math.max(1, Math.floor(config.outbound.requestsPerMinute / processes)),
    },
    api: {
      ...config.api,
      rateLimitPerMinute: share(config.api.rateLimitPerMinute),
      maxConnectionsPerAddress: share(config.api.maxConnectionsPerAddress),
      maxConnections: share(config.api.maxConnections),
    },
  };
}
