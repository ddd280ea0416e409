/**
 * BullMQ keeps jobs, locks and markers as ordinary keys: a Redis that evicts keys under memory pressure drops
 * deliveries silently. The gateway refuses such a Redis (docs/threats.md 55). The policy is read from INFO, which
 * answers where CONFIG GET is disabled (managed Redis services rename or block CONFIG).
 */
import type { Redis } from 'ioredis';
import { GatewayError } from '../errors.ts';
import { withTimeout } from './timeout.ts';

export const REQUIRED_POLICY = 'noeviction';

/** The `maxmemory_policy` line of `INFO memory`, or undefined when the server does not report one. */
export function maxmemoryPolicyOf(info: string): string | undefined {
  const match = /^maxmemory_policy:(\S+)\s*$/m.exec(info);
  return match?.[1];
}

export async function assertNoEviction(redis: Redis, timeoutMs = 2_000): Promise<void> {
  const info = await withTimeout(redis.info('memory'), timeoutMs, 'INFO memory');
  const policy = maxmemoryPolicyOf(info);
  if (policy === undefined) {
    throw new GatewayError(
      'QUEUE_EVICTION_POLICY',
      `Redis does not report its maxmemory-policy in INFO memory; the gateway needs "${REQUIRED_POLICY}" and cannot confirm it`,
    );
  }
  if (policy !== REQUIRED_POLICY) {
    throw new GatewayError(
      'QUEUE_EVICTION_POLICY',
      `Redis maxmemory-policy is "${policy}"; the gateway needs "${REQUIRED_POLICY}", because an evicted job or lock ` +
        'is a delivery lost without trace (set maxmemory-policy noeviction in redis.conf)',
    );
  }
}
