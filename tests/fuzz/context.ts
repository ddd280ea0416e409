/**
 * The gateway under fuzzing and what every target shares: PE's composed gateway on its own PostgreSQL database
 * (CL is its partner, whose real signing key makes the valid records that are mutated), a client that reaches
 * an app through fastify's `inject` or, for a share of the inputs, over real HTTP on loopback, the digests of
 * every record that may legitimately be accepted, and the counts the summary prints.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { type ComposedGateway, composeGateway } from '../../src/compose.ts';
import type { Signer } from '../../src/config/types.ts';
import { recordDigest } from '../../src/crypto/digest.ts';
import type { TrustStore } from '../../src/crypto/types.ts';
import { createLogger } from '../../src/log.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/types.ts';
import type { TestAdmins } from '../support/admins.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { makeLinkedAdmins } from '../support/exchange.ts';
import { PROBLEM_CODES } from '../support/fuzz-inputs.ts';
import { freshSigned } from '../support/records.ts';

/** A broken invariant: what broke, on which input. fast-check shrinks the input that threw it. */
export class Violation extends Error {
  readonly kind: '5xx' | 'accepted-invalid' | 'no-answer' | 'reader';
  constructor(kind: Violation['kind'], message: string) {
    super(message);
    this.kind = kind;
  }
}

export interface Answer {
  status: number;
  body: string;
  contentType: string;
}

export interface FuzzRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  payload?: string | Buffer;
}

export interface TargetStats {
  inputs: number;
  http: number;
  statuses: Map<string, number>;
  fiveXx: number;
  acceptedInvalid: number;
  notProblem: number;
}

export interface FuzzContext {
  gateway: ComposedGateway;
  store: Store;
  /** CL's signer (CL is PE's partner): the key of genuinely signed records and request tokens. */
  clSigner: Signer;
  /** PE's trust store for CL, as its configuration built it. */
  clTrust: TrustStore;
  /** Records CL signed, never sent as they are: the seeds that are mutated. */
  genuine: string[];
  /** Digests of every text that may be accepted: the genuine records and the re-signed ones judged valid. */
  allowed: Set<string>;
  apiToken: string;
  /** One in `httpEvery` requests goes over real HTTP rather than inject. */
  httpEvery: number;
  send(which: 'partner' | 'api', req: FuzzRequest, stats: TargetStats, where: string): Promise<Answer>;
  close(): Promise<void>;
}

export function newStats(): TargetStats {
  return { inputs: 0, http: 0, statuses: new Map(), fiveXx: 0, acceptedInvalid: 0, notProblem: 0 };
}

/** Longest any one answer may take: a hung request is a violation, not a hung run. */
const ANSWER_TIMEOUT_MS = 60_000;

export async function makeFuzzContext(options: { httpEvery: number; seeds: number }): Promise<FuzzContext> {
  const apiToken = randomBytes(32).toString('base64url');
  const admins: TestAdmins = await makeLinkedAdmins(['PE', 'CL'], {
    edit: (_id, raw) => {
      raw.server = { ...raw.server, rateLimitPerMinute: 1_000_000 };
      raw.apiClients = [
        {
          id: 'fuzz',
          tokenSha256: createHash('sha256').update(apiToken).digest('hex'),
          scopes: ['publish', 'border', 'admin', 'monitoring'],
        },
      ];
    },
  });
  const db: TestDatabase = await createTestDatabase();
  const store = await openStore({ kind: 'postgres', databaseUrl: db.url });
  const config = admins.get('PE').config;
  const gateway = await composeGateway(config, { store, ownsStore: false, log: createLogger('silent') });
  await gateway.readModelLoaded;
  await gateway.app.listen({ host: '127.0.0.1', port: 0 });
  await gateway.apiApp.listen({ host: '127.0.0.1', port: 0 });
  const base = (app: FastifyInstance) => {
    const a = app.server.address();
    return `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`;
  };
  const bases = { partner: base(gateway.app), api: base(gateway.apiApp) };
  const clSigner = admins.get('CL').config.home.signers[0]!;
  const clTrust = config.partners.find((p) => p.adminId === 'CL')!.trust;
  const { jws: genuine } = await freshSigned('CL', clSigner, options.seeds);
  const allowed = new Set(genuine.map(recordDigest));
  let counter = 0;

  const send = async (
    which: 'partner' | 'api',
    req: FuzzRequest,
    stats: TargetStats,
    where: string,
  ): Promise<Answer> => {
    counter += 1;
    const overHttp = counter % options.httpEvery === 0;
    const app = which === 'partner' ? gateway.app : gateway.apiApp;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Violation('no-answer', `${where}: no answer in ${ANSWER_TIMEOUT_MS} ms`)),
        ANSWER_TIMEOUT_MS,
      );
    });
    // A request undici refuses to send (an invalid URL or header) goes through inject instead.
    const answer = overHttp
      ? viaHttp(bases[which], req).catch(() => viaInject(app, req))
      : viaInject(app, req);
    try {
      const res = await Promise.race([answer, timeout]);
      record(stats, res, overHttp);
      if (res.status >= 500) {
        stats.fiveXx += 1;
        throw new Violation(
          '5xx',
          `${where}: ${req.method} ${req.url.slice(0, 200)} → ${res.status} ${res.body.slice(0, 300)}`,
        );
      }
      return res;
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    gateway,
    store,
    clSigner,
    clTrust,
    genuine,
    allowed,
    apiToken,
    httpEvery: options.httpEvery,
    send,
    async close() {
      await gateway.close();
      await store.close();
      await db.drop();
      admins.cleanup();
    },
  };
}

function record(stats: TargetStats, res: Answer, overHttp: boolean): void {
  if (overHttp) stats.http += 1;
  const key = String(res.status);
  stats.statuses.set(key, (stats.statuses.get(key) ?? 0) + 1);
  if (res.status >= 400 && res.status < 500 && !isProblem(res)) stats.notProblem += 1;
}

function isProblem(res: Answer): boolean {
  if (!res.contentType.startsWith('application/problem+json')) return false;
  try {
    const p = JSON.parse(res.body) as { code?: unknown; status?: unknown };
    return PROBLEM_CODES.has(String(p.code)) && p.status === res.status;
  } catch {
    return false;
  }
}

async function viaInject(app: FastifyInstance, req: FuzzRequest): Promise<Answer> {
  const res = await app.inject({
    method: req.method as 'GET',
    url: req.url,
    headers: req.headers ?? {},
    ...(req.payload === undefined ? {} : { payload: req.payload }),
  });
  return { status: res.statusCode, body: res.body, contentType: String(res.headers['content-type'] ?? '') };
}

async function viaHttp(base: string, req: FuzzRequest): Promise<Answer> {
  const res = await request(`${base}${req.url}`, {
    method: req.method as 'GET',
    headers: req.headers ?? {},
    ...(req.payload === undefined ? {} : { body: req.payload }),
    headersTimeout: ANSWER_TIMEOUT_MS,
    bodyTimeout: ANSWER_TIMEOUT_MS,
  });
  const body = await res.body.text();
  return { status: res.statusCode, body, contentType: String(res.headers['content-type'] ?? '') };
}
