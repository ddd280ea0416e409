/**
 * The receiving administration (PE) run as several gateway replicas on one PostgreSQL database and one Redis
 * (a queue prefix of its own per test file), a sending partner (CL) that signs records with its real key, and
 * API tokens for a border system, the national system and the operators. Every wait is bounded.
 */
import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { RawConfig } from '../../src/config/raw.ts';
import type { GatewayConfig } from '../../src/config/types.ts';
import { type Gateway, startGateway } from '../../src/gateway.ts';
import { createLogger } from '../../src/log.ts';
import type { LookupAnswer } from '../../src/lookup/answer.ts';
import type { Mra } from '../../src/mra/types.ts';
import type { Receipt } from '../../src/protocol/receipt.ts';
import type { AeoStatusRecord } from '../../src/protocol/record.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/types.ts';
import { makeAdmins, type TestAdmins } from './admins.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { decodePayload, type HttpResponse, httpRequest, postTo, type SentBatch } from './gateway.ts';
import { signAll } from './records.ts';

const token = () => randomBytes(32).toString('base64url');
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

export const TOKENS = { border: token(), national: token(), admin: token(), monitoring: token() } as const;

export interface Replica {
  gateway: Gateway;
  store: Store;
  close(): Promise<void>;
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
  /** Signs `records` as CL and posts them to `replica`'s /mra/v1/records; fails on anything but 200. */
  send(replica: Replica, records: readonly AeoStatusRecord[]): Promise<SentBatch>;
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
  const replicas = new Set<Replica>();
  return {
    admins,
    config,
    db,
    async replica(mra, clock) {
      const store = await openStore({ kind: 'postgres', databaseUrl: db.url });
      const amended: GatewayConfig =
        mra === undefined
          ? config
          : { ...config, partners: config.partners.map((p) => ({ ...p, mra: { ...p.mra, ...mra } })) };
      const gateway = await startGateway(amended, {
        store,
        log: createLogger('silent'),
        ...(clock === undefined ? {} : { clock }),
      });
      const replica: Replica = {
        gateway,
        store,
        async close() {
          replicas.delete(replica);
          await gateway.close();
          await store.close();
        },
      };
      replicas.add(replica);
      return replica;
    },
    async send(replica, records) {
      const jws = await signAll(records, signer);
      const res = await postTo(`${replica.gateway.url}/mra/v1/records`, { records: jws });
      if (res.status !== 200) throw new Error(`expected 200, got ${res.status}: ${res.text.slice(0, 300)}`);
      const receiptJws = (JSON.parse(res.text) as { receipt: string }).receipt;
      const receipt = decodePayload(receiptJws) as Receipt;
      return { receiptJws, receipt, results: receipt.results };
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
export function apiGet(replica: Replica, path: string, auth = bearer(TOKENS.border)): Promise<HttpResponse> {
  return httpRequest(`${replica.gateway.apiUrl}/api/v1${path}`, { method: 'GET', headers: auth });
}

/** The answer for one operator, failing on anything but 200. */
export async function lookupOne(replica: Replica, issuer: string, aeoId: string, asOf?: string) {
  const q = asOf === undefined ? '' : `?asOf=${encodeURIComponent(asOf)}`;
  const res = await apiGet(replica, `/operators/${issuer}/${aeoId}${q}`);
  expect(res.status, res.text.slice(0, 300)).toBe(200);
  return JSON.parse(res.text) as LookupAnswer;
}

export async function lookupBatch(
  replica: Replica,
  body: unknown,
  auth = bearer(TOKENS.border),
): Promise<HttpResponse> {
  return postTo(`${replica.gateway.apiUrl}/api/v1/operators/lookup`, body, { headers: auth });
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
