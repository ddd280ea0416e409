/**
 * Two (or more) gateways that deliver to each other for the outbound tests: linked administrations on fixed
 * loopback ports, each gateway on a PostgreSQL database of its own that outlives a restart of the gateway,
 * queues under a prefix of their own on Redis, small delivery timings, and readers of what delivery left on
 * both sides. Every wait is bounded in time.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { RawConfig } from '../../src/config/raw.ts';
import type { OutboundSettings } from '../../src/config/types.ts';
import { createLogger } from '../../src/log.ts';
import type { Store } from '../../src/store/types.ts';
import type { TestAdmins } from './admins.ts';
import { makeLinkedAdmins } from './exchange.ts';
import { openTestStore, startTestGateway, type TestGateway } from './gateway.ts';

/** Fast enough for a suite, slow enough that a retry is visible. */
export const FAST_OUTBOUND: Partial<OutboundSettings> = {
  batchSize: 50,
  attempts: 8,
  backoffMs: 50,
  maxBackoffMs: 400,
  requestTimeoutMs: 2_000,
  relayIntervalMs: 100,
};

export interface ExchangeOptions {
  mtls?: boolean;
  outbound?: Partial<OutboundSettings>;
  redisUrl?: string;
  /** Further edits, after the links, timings and Redis settings. */
  edit?: (adminId: string, raw: RawConfig) => void;
}

export interface Exchange {
  admins: TestAdmins;
  /** The running gateway of `id`; throws when it is stopped. */
  gw(id: string): TestGateway;
  store(id: string): Store;
  /** Starts (or restarts) the gateway of `id` on its port and its database. */
  start(id: string, log?: Logger): Promise<TestGateway>;
  stop(id: string): Promise<void>;
  close(): Promise<void>;
}

export async function makeExchange(ids: readonly string[], options: ExchangeOptions = {}): Promise<Exchange> {
  // The configuration takes a Redis URL as a secret (file or environment), never inline.
  const secrets = mkdtempSync(join(tmpdir(), 'mra-redis-'));
  const urlFile = join(secrets, 'redis-url');
  if (options.redisUrl) writeFileSync(urlFile, options.redisUrl);
  const admins = await makeLinkedAdmins(ids, {
    mtls: options.mtls ?? false,
    redis: true,
    edit: (id, raw) => {
      raw.outbound = { ...raw.outbound, ...FAST_OUTBOUND, ...options.outbound };
      raw.redis = {
        ...raw.redis,
        commandTimeoutMs: 1_000,
        ...(options.redisUrl ? { url: { file: urlFile } } : {}),
      };
      options.edit?.(id, raw);
    },
  });
  const stores = new Map<string, Awaited<ReturnType<typeof openTestStore>>>();
  const running = new Map<string, TestGateway>();
  for (const id of ids) stores.set(id, await openTestStore('postgres'));
  const storeOf = (id: string) => {
    const s = stores.get(id);
    if (s === undefined) throw new Error(`no store for ${id}`);
    return s.store;
  };
  return {
    admins,
    gw(id) {
      const gw = running.get(id);
      if (gw === undefined) throw new Error(`gateway ${id} is not running`);
      return gw;
    },
    store: storeOf,
    async start(id, log) {
      const gw = await startTestGateway(admins.get(id).config, 'postgres', {
        store: storeOf(id),
        log: log ?? createLogger('silent'),
      });
      running.set(id, gw);
      return gw;
    },
    async stop(id) {
      await running.get(id)?.close();
      running.delete(id);
    },
    async close() {
      await Promise.all([...running.values()].map((g) => g.close()));
      running.clear();
      for (const s of stores.values()) await s.dispose();
      admins.cleanup();
      rmSync(secrets, { recursive: true, force: true });
    },
  };
}

/**
 * Polls `probe` until it returns a value other than undefined, at most `timeoutMs`. The default is generous:
 * it only bounds a failing test, and work that needs the CPU may take long on a loaded machine (docs/threats.md 80).
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let i = 0; i < 100_000 && Date.now() < deadline; i += 1) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export interface OutboxRow {
  id: number;
  recordId: string;
  aeoId: string;
  version: number;
  state: string;
  attempts: number;
  outcome: string | null;
  receiptId: string | null;
  lastError: string | null;
}

/** The sender's outbox rows for `partner`, in order. */
export async function outboxOf(store: Store, partner: string): Promise<OutboxRow[]> {
  const rows = await store.query<Record<string, string | number | null>>(
    `SELECT o.id::text AS id, h.record_id::text AS record_id, h.aeo_id, h.version::text AS version, o.state,
            o.attempts, o.outcome, o.receipt_id::text AS receipt_id, o.last_error
       FROM outbox o JOIN home_record h ON h.seq = o.record_seq WHERE o.partner = $1 ORDER BY o.id`,
    [partner],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    recordId: String(r.record_id),
    aeoId: String(r.aeo_id),
    version: Number(r.version),
    state: String(r.state),
    attempts: Number(r.attempts),
    outcome: r.outcome === null ? null : String(r.outcome),
    receiptId: r.receipt_id === null ? null : String(r.receipt_id),
    lastError: r.last_error === null ? null : String(r.last_error),
  }));
}

/** Waits until every outbox row of `partner` has left pending/retrying; returns them. */
export function settledOutbox(store: Store, partner: string, expected: number, timeoutMs = 60_000) {
  return waitFor(
    `${expected} settled outbox rows for ${partner}`,
    async () => {
      const rows = await outboxOf(store, partner);
      return rows.length === expected && rows.every((r) => r.state === 'delivered' || r.state === 'dead')
        ? rows
        : undefined;
    },
    timeoutMs,
  );
}

/** What the receiver holds of `issuer`'s operators: evidence rows per recordId, and the current version. */
export async function heldAt(
  store: Store,
  issuer: string,
  aeoIds: readonly string[],
): Promise<{ evidence: Map<string, number>; current: Map<string, { version: number; status: string }> }> {
  const ids = JSON.stringify(aeoIds);
  const evidence = await store.query<{ record_id: string; n: string }>(
    `SELECT record_id::text, count(*)::text AS n FROM inbound_record
      WHERE issuer = $1 AND aeo_id IN (SELECT jsonb_array_elements_text($2::jsonb)) GROUP BY record_id`,
    [issuer, ids],
  );
  const current = await store.query<{ aeo_id: string; version: string; status: string }>(
    `SELECT aeo_id, version::text, status FROM operator_state
      WHERE issuer = $1 AND aeo_id IN (SELECT jsonb_array_elements_text($2::jsonb))`,
    [issuer, ids],
  );
  return {
    evidence: new Map(evidence.map((r) => [r.record_id, Number(r.n)])),
    current: new Map(current.map((r) => [r.aeo_id, { version: Number(r.version), status: r.status }])),
  };
}

/** Receipts the sender kept from `partner`. */
export async function receiptsFrom(
  store: Store,
  partner: string,
): Promise<{ receiptId: string; jws: string }[]> {
  const rows = await store.query<{ receipt_id: string; receipt_jws: string }>(
    'SELECT receipt_id::text, receipt_jws FROM outbound_receipt WHERE partner = $1 ORDER BY received_at',
    [partner],
  );
  return rows.map((r) => ({ receiptId: r.receipt_id, jws: r.receipt_jws }));
}
