/**
 * `server.processes` and `serve --processes` (src/cluster/processes.ts), and the configuration a cluster's worker
 * runs with (src/cluster/limits.ts): limits shared out, never multiplied by the number of processes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { shareOf, workerConfig } from '../../src/cluster/limits.ts';
import { metricsAnswer, workerMessage } from '../../src/cluster/messages.ts';
import { loadConfig } from '../../src/config/load.ts';
import {
  API_RATE_FLOOR_PER_MINUTE,
  apiRateLimitPerMinute,
  PARTNER_RATE_PER_MINUTE,
  processesOption,
  resolveProcesses,
} from '../../src/config/processes.ts';
import type { RawConfig } from '../../src/config/raw.ts';
import { GatewayError } from '../../src/errors.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';

let admins: TestAdmins;
beforeAll(() => {
  admins = makeAdmins(['PE', 'CL']);
});
afterAll(() => admins.cleanup());

const POSTGRES = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/unused' };

function loadWith(processes: unknown, env: Record<string, string> = POSTGRES) {
  const raw = parse(readFileSync(admins.get('PE').configPath, 'utf8')) as RawConfig;
  raw.server = { ...raw.server, processes: processes as number };
  const path = join(admins.dir, `processes-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, stringify(raw));
  return loadConfig(path, { env });
}

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe('CONFIG_INVALID');
    return (error as GatewayError).message;
  }
  throw new Error('expected a configuration error');
}

describe('server.processes', () => {
  it('is 1 when absent: one process, as before', () => {
    expect(admins.get('PE').config.server.processes).toBe(1);
  });

  it('takes a number, or auto for the available cores, with PostgreSQL', () => {
    expect(loadWith(3).server.processes).toBe(3);
    expect(loadWith('auto').server.processes).toBe(availableParallelism());
  });

  it('refuses more than one process on the embedded store, naming the field', () => {
    const message = configError(() => loadWith(2, {}));
    expect(message).toContain('/server/processes');
    expect(message).toContain('embedded store');
    expect(loadWith(1, {}).server.processes).toBe(1);
  });

  it('refuses what the schema does not admit', () => {
    for (const bad of [0, -1, 257, 1.5, 'many', '2']) {
      expect(configError(() => loadWith(bad))).toContain('/server/processes');
    }
  });

  it('--processes: digits or auto, the same rule as the file', () => {
    expect(processesOption('auto')).toBe('auto');
    expect(processesOption('4')).toBe(4);
    expect(configError(() => processesOption('two'))).toContain('--processes');
    expect(configError(() => processesOption('-1'))).toContain('--processes');
    expect(configError(() => resolveProcesses(0, 'postgres', '--processes'))).toContain('--processes');
    expect(configError(() => resolveProcesses(2, 'embedded', '--processes'))).toContain('embedded store');
    expect(resolveProcesses(2, 'postgres', '--processes')).toBe(2);
  });
});

describe("a worker's configuration", () => {
  it('shares each limit out, rounded up, never below 1', () => {
    expect(shareOf(600, 1)).toBe(600);
    expect(shareOf(600, 4)).toBe(150);
    expect(shareOf(64, 3)).toBe(22);
    expect(shareOf(1, 8)).toBe(1);
    for (const n of [1, 2, 3, 7, 16]) {
      for (const limit of [1, 5, 64, 600, 4_096]) {
        // Together the processes allow at least the limit (no caller refused below it for the sharing alone,
        // when its requests are spread) and at most the limit plus one per process (rounding).
        expect(shareOf(limit, n) * n).toBeGreaterThanOrEqual(limit);
        expect(shareOf(limit, n) * n).toBeLessThan(limit + n);
      }
    }
  });

  it('divides the rate and connection limits of both listeners and leaves the metrics listener to the primary', () => {
    const config = { ...loadWith(4), metrics: { port: 9464, host: '127.0.0.1' } };
    const worker = workerConfig(config, 4);
    expect(worker.server.rateLimitPerMinute).toBe(150);
    expect(worker.server.maxConnectionsPerAddress).toBe(16);
    expect(worker.server.maxConnections).toBe(1_024);
    expect(worker.api.maxConnectionsPerAddress).toBe(64);
    expect(worker.api.maxConnections).toBe(1_024);
    expect(worker.metrics).toBeUndefined();
    expect(worker.server.port).toBe(config.server.port);
    expect(worker.partners).toBe(config.partners);
  });

  it("divides the API listener's limit, computed once from the configuration as written", () => {
    const config = loadWith(2);
    // The partner limit of 600, raised to the API listener's floor: the gateway's limit.
    expect(config.api.rateLimitPerMinute).toBe(6_000);
    const one = workerConfig(config, 1);
    const two = workerConfig(config, 2);
    const three = workerConfig(config, 3);
    expect(one.api.rateLimitPerMinute).toBe(6_000);
    expect(two.api.rateLimitPerMinute).toBe(Math.ceil(one.api.rateLimitPerMinute / 2));
    expect(three.api.rateLimitPerMinute).toBe(2_000);
    // The worker knows how many share the limits (per-route limits, such as dashboard sign-in, are divided by it).
    expect(two.server.processes).toBe(2);
  });

  it('keeps a partner limit above the floor for the API listener, then divides it', () => {
    const raw = parse(readFileSync(admins.get('PE').configPath, 'utf8')) as RawConfig;
    raw.server = { ...raw.server, rateLimitPerMinute: 9_001 };
    const path = join(admins.dir, 'api-rate.yaml');
    writeFileSync(path, stringify(raw));
    const config = loadConfig(path, { env: POSTGRES });
    expect(config.api.rateLimitPerMinute).toBe(9_001);
    expect(workerConfig(config, 2).api.rateLimitPerMinute).toBe(4_501);
    expect(apiRateLimitPerMinute(10)).toBe(API_RATE_FLOOR_PER_MINUTE);
  });
});

describe('outbound.requestsPerMinute', () => {
  it("is nine tenths of the partner listener's default limit, shared out in a cluster, 0 staying 0", () => {
    const config = loadWith(4);
    expect(config.outbound.requestsPerMinute).toBe(540);
    expect(config.outbound.requestsPerMinute).toBe((PARTNER_RATE_PER_MINUTE * 9) / 10);
    expect(workerConfig(config, 4).outbound.requestsPerMinute).toBe(135);
    // Rounded down: 64 processes at 8 a minute send 512, not 576, together.
    expect(workerConfig(config, 64).outbound.requestsPerMinute).toBe(8);
    expect(workerConfig(config, 256).outbound.requestsPerMinute).toBe(2);
    const off = { ...config, outbound: { ...config.outbound, requestsPerMinute: 0 } };
    expect(workerConfig(off, 4).outbound.requestsPerMinute).toBe(0);
  });

  it('refuses a negative or fractional pace, naming the field', () => {
    for (const bad of [-1, 1.5]) {
      const raw = parse(readFileSync(admins.get('PE').configPath, 'utf8')) as RawConfig;
      raw.outbound = { ...raw.outbound, requestsPerMinute: bad };
      const path = join(admins.dir, `pace-${String(bad)}.yaml`);
      writeFileSync(path, stringify(raw));
      expect(configError(() => loadConfig(path, { env: POSTGRES }))).toMatch(/requestsPerMinute/);
    }
  });
});

describe('messages between the primary and its workers', () => {
  it('reads only well-formed messages of its own', () => {
    expect(workerMessage({ mra: 'ready' })).toEqual({ mra: 'ready' });
    expect(workerMessage({ mra: 'start-failed', code: 2, line: 'x' })).toEqual({
      mra: 'start-failed',
      code: 2,
      line: 'x',
    });
    expect(workerMessage({ mra: 'start-failed', code: '2', line: 'x' })).toBeUndefined();
    expect(workerMessage({ type: 'prom-client:getMetricsRes' })).toBeUndefined();
    expect(workerMessage(null)).toBeUndefined();
    expect(metricsAnswer({ mra: 'metrics', id: 3, text: 'a 1' })).toEqual({
      mra: 'metrics',
      id: 3,
      text: 'a 1',
    });
    expect(metricsAnswer({ mra: 'metrics', id: '3' })).toBeUndefined();
  });
});
