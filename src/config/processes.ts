/**
 * How many gateway processes `serve` runs (`server.processes`, `serve --processes`): a number, or `auto` for one
 * per core the process may use (cores.ts: a container's CPU quota counts). More than one shares PostgreSQL; the embedded store (PGlite) is one process per data
 * folder, so it is refused here, before anything starts.
 */
import { GatewayError } from '../errors.ts';
import { usableCores } from './cores.ts';
import { invalid } from './invalid.ts';
import type { StorageSettings } from './types.ts';

export type ProcessesSetting = number | 'auto';

/** The most processes a gateway runs on one machine (the configuration schema's bound too). */
export const MAX_PROCESSES = 256;

export function resolveProcesses(
  setting: ProcessesSetting | undefined,
  storage: StorageSettings['kind'],
  field: string,
): number {
  const n = setting === undefined ? 1 : setting === 'auto' ? usableCores() : setting;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PROCESSES)
    throw invalid(
      `${field}: ${String(setting)} is not a number of processes (1 to ${MAX_PROCESSES}, or auto)`,
    );
  if (n > 1 && storage === 'embedded')
    throw invalid(
      `${field}: ${n} processes need PostgreSQL (storage.databaseUrl or DATABASE_URL); the embedded store ` +
        'is one process per data folder',
    );
  return n;
}

/** The `--processes` option's text: digits or `auto`, checked by resolveProcesses once the store is known. */
export function processesOption(text: string): ProcessesSetting {
  if (text === 'auto') return 'auto';
  if (!/^\d{1,3}$/.test(text)) throw invalid(`--processes: ${text} is not a number of processes or auto`);
  return Number(text);
}

/** A process's share of a limit the configuration states for the whole gateway: rounded up, at least 1. */
export function shareOf(limit: number, processes: number): number {
  return Math.max(1, Math.ceil(limit / processes));
}

/** Requests an address may make a minute on the partner listener, unless server.rateLimitPerMinute says. */
export const PARTNER_RATE_PER_MINUTE = 600;

/** A pace under a partner's limit per caller: nine tenths of it, room for its other requests. */
export function paceUnder(partnerLimitPerMinute: number): number {
  return Math.floor((partnerLimitPerMinute * 9) / 10);
}

/**
 * Batches a minute this gateway sends one partner unless outbound.requestsPerMinute says: under the partner
 * listener's default limit per caller, the limit of a partner that runs the default in one process
 * (docs/protocol.md says what else counts against it).
 */
export const OUTBOUND_REQUESTS_PER_MINUTE = paceUnder(PARTNER_RATE_PER_MINUTE);

/** The API listener's limit is never below this: border lookups come in bursts from few addresses. */
export const API_RATE_FLOOR_PER_MINUTE = 6_000;

/**
 * Requests an address may make a minute on the API listener, for the whole gateway: the partner listener's
 * limit, but at least the floor. Derived once from the configuration as written; a cluster's workers then
 * enforce their share of it (cluster/limits.ts), as with every other limit.
 */
export function apiRateLimitPerMinute(partnerRatePerMinute: number): number {
  return Math.max(partnerRatePerMinute, API_RATE_FLOOR_PER_MINUTE);
}

/** The environment a cluster's worker is forked with: its slot (1 to N) and N. */
export const SLOT_ENV = 'MRA_CLUSTER_SLOT';
export const PROCESSES_ENV = 'MRA_CLUSTER_PROCESSES';

/** A worker's slot and the number of processes, as its primary forked it. */
export function workerSlot(env: Readonly<Record<string, string | undefined>> = process.env): {
  slot: number;
  processes: number;
} {
  const slot = Number(env[SLOT_ENV]);
  const processes = Number(env[PROCESSES_ENV]);
  if (!Number.isInteger(slot) || !Number.isInteger(processes) || slot < 1 || slot > processes)
    throw new GatewayError(
      'INTERNAL',
      `a cluster worker started without its slot (${SLOT_ENV}, ${PROCESSES_ENV})`,
    );
  return { slot, processes };
}
