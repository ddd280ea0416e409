/**
 * The receiving administration (PE) run as several gateway replicas on one PostgreSQL database and one Redis
 * (a queue prefix of its own per test file), a sending partner (CL) that signs records with its real key, and
 * API tokens for a border system, the national system and the operators. Every wait is bounded.
 */
import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { type ComposedGateway, composeGateway } from '../../src/compose.ts';
import type { RawConfig } from '../../src/config/raw.ts';
import type { GatewayConfig } from '../../src/config/types.ts';
import { type Gateway, startGateway } from '../../src/gateway.ts';
import { createLogger } from '../../src/log.ts';
import type { LookupAnswer } from '../../src/lookup/answer.ts';
import type { Mra } from '../../src/mra/types.ts';
import type { AeoStatusRecord } from '../../src/protocol/record.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/types.ts';
import { makeAdmins, type TestAdmins } from './admins.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { type HttpClient, type HttpResponse, receiptOf, type SentBatch, socketClient } from './gateway.ts';
import { injectClient } from './inject.ts';
import { signAll } from './records.ts';

const token = () => randomBytes(32).toString('base64url');
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

export const TOKENS = { border: token(), national: token(), admin: token(), monitoring: token() } as const;

/** A replica however it is reached: the lookup helpers work with either. */
export interface ReachableReplica {
  store: Store;
  /** The partner-facing app (/mra/v1). */
  partner: HttpClient;
  /** The internal API app (/api/v1). */
  api: HttpClient;
  close(): Promise<void>;
}

/** A replica listening on sockets. */
export interface Replica extends ReachableReplica {
  gateway: Gateway;
}

/** A replica composed without sockets, reached through `inject`. */
export interface InjectedReplica extends ReachableReplica {
  gateway: ComposedGateway;
}

export interface LookupSetup {
  admins: TestAdmins;
  config: GatewayConfig;
  db: TestDatabase;
  /**
   * Starts a replica of PE on the shared database; `mra` amends the MRA with CL (a changed agreement); `clock`
   * runs it at another time (a replica that lives on the day a later-dated version takes effect).
   */
  replica(mra?: Partial<Mra>, clock?: () => Date): Promise<Replica>;
  /** The same as `replica`, composed without listening: for tests where the transport is not the point. */
  composed(mra?: Partial<Mra>, clock?: () => Date): Promise<InjectedReplica>;
  /** Signs `records` as CL and posts them to `replica`'s /mra/v1/records; fails on anything but 200. */
  send(replica: ReachableReplica, records: readonly AeoStatusRecord[]): Promise<SentBatch>;
  close(): Promise<void>;
}

export async function makeLookupSetup(
  options: {
    redisUrl?: string;
    outbound?: Record<string, number>;
    /** Replaces the test default (http and loopback receivers allowed, a key for webhook secrets). */
    notifications?: RawConfig['notifications'];
  } = {},
): Promise<LookupSetup> {
  const admins = makeAdmins(['PE', 'CL'], {
    edit: (_id, raw) => {
      raw.apiClients = [
        { id: 'risk-engine', tokenSha256: sha256(TOKENS.border), scopes: ['border'] },
        { id: 'national-aeo', tokenSha256: sha256(TOKENS.national), scopes: ['publish'] },
        { id: 'operators', tokenSha256: sha256(TOKENS.admin), scopes: ['admin'] },
        { id: 'monitoring', tokenSha256: sha256(TOKENS.monitoring), scopes: ['monitoring'] },
      ];
      raw.outbound = { ...raw.outbound, pullIntervalMs: 0, reconcileIntervalMs: 0, ...options.outbound };
      if (options.notifications !== undefined) raw.notifications = options.notifications;
    },
  });
  const loaded = admins.get('PE').config;
  const config: GatewayConfig =
    options.redisUrl === undefined
      ? loaded
      : { ...loaded, redis: { ...loaded.redis, url: options.redisUrl } };
  const signer = admins.get('CL').config.home.signers[0]!;
  const db = await createTestDatabase();
  const replicas = new Set<ReachableReplica>();
  const amend = (mra: Partial<Mra> | undefined): GatewayConfig =>
    mra === undefined
      ? config
      : { ...config, partners: config.partners.map((p) => ({ ...p, mra: { ...p.mra, ...mra } })) };
  // Registered for close before it is returned: a test that fails half-way leaves nothing running.
  const track = <R extends ReachableReplica>(
    store: Store,
    gateway: { close(): Promise<void> },
    make: (close: () => Promise<void>) => R,
  ): R => {
    const replica = make(async () => {
      replicas.delete(replica);
      await gateway.close();
      await store.close();
    });
    replicas.add(replica);
    return replica;
  };
  const startOptions = (clock: (() => Date) | undefined) => ({
    log: createLogger('silent'),
    ...(clock === undefined ? {} : { clock }),
  });
  return {
    admins,
    config,
    db,
    async replica(mra, clock) {
      const store = await openStore({ kind: 'postgres', databaseUrl: db.url });
      const gateway = await startGateway(amend(mra), {
        store,
        ...startOptions(clock),
        waitForReadModel: true,
      });
      const [partner, api] = [socketClient(gateway.url), socketClient(gateway.apiUrl)];
      return track(store, gateway, (close) => ({ gateway, store, partner, api, close }));
    },
    async composed(mra, clock) {
      const store = await openStore({ kind: 'postgres', databaseUrl: db.url });
      const gateway = await composeGateway(amend(mra), { store, ownsStore: false, ...startOptions(clock) });
      await gateway.readModelLoaded;
      const [partner, api] = [injectClient(gateway.app), injectClient(gateway.apiApp)];
      return track(store, gateway, (close) => ({ gateway, store, partner, api, close }));
    },
    async send(replica, records) {
      const jws = await signAll(records, signer);
      return receiptOf(await replica.partner.post('/mra/v1/records', { records: jws }));
    },
    async close() {
      for (const r of [...replicas]) await r.close();
      await db.drop();
      admins.cleanup();
    },
  };
}

export function bearer(t: string): Record<string, string> {
  return { authorization: `Bearer ${t}` };
}

/** GETs `path` below /api/v1 on `replica` with the border token (or `auth`). */
export function apiGet(
  replica: ReachableReplica,
  path: string,
  auth = bearer(TOKENS.border),
): Promise<HttpResponse> {
  return replica.api.request(`/api/v1${path}`, { method: 'GET', headers: auth });
}

/** The answer for one operator, failing on anything but 200. */
export async function lookupOne(replica: ReachableReplica, issuer: string, aeoId: string, asOf?: string) {
  const q = asOf === undefined ? '' : `?asOf=${encodeURIComponent(asOf)}`;
  const res = await apiGet(replica, `/operators/${issuer}/${aeoId}${q}`);
  expect(res.status, res.text.slice(0, 300)).toBe(200);
  return JSON.parse(res.text) as LookupAnswer;
}

export async function lookupBatch(
  replica: ReachableReplica,
  body: unknown,
  auth = bearer(TOKENS.border),
): Promise<HttpResponse> {
  return replica.api.post('/api/v1/operators/lookup', body, { headers: auth });
}

const PATIENCE_MS = 60_000;

/**
 * Polls until `probe` holds and returns the time it took. It gives up after `timeoutMs`, or after a minute if
 * that is longer: on a loaded machine (docs/threats.md 80) work that needs the CPU may take far longer than usual,
 * and a wait is no claim about speed. A test that claims a latency asserts on the returned time.
 */
export async function within(
  what: string,
  timeoutMs: number,
  probe: () => Promise<boolean>,
): Promise<number> {
  const start = Date.now();
  const bound = Math.max(timeoutMs, PATIENCE_MS);
  while (Date.now() - start < bound) {
    if (await probe()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out after ${bound} ms waiting for ${what}`);
}
