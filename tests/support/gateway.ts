/**
 * A receiving gateway for integration tests: the real startGateway on port 0 over a real socket, on
 * PostgreSQL (a database of its own, dropped on close) or on the embedded store in memory, with a silent
 * logger unless the test brings one (inject.ts composes the same gateway without sockets). Also the HTTP
 * helpers the tests share: posting a body with exact bytes and headers, reading a receipt, asserting a problem
 * document, and snapshots of the evidence tables.
 */
import { type Dispatcher, request } from 'undici';
import { expect } from 'vitest';
import type { GatewayConfig } from '../../src/config/types.ts';
import { type Gateway, startGateway } from '../../src/gateway.ts';
import { createLogger } from '../../src/log.ts';
import type { Receipt, ReceiptResult } from '../../src/protocol/receipt.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/types.ts';
import { createTestDatabase } from './db.ts';

export type StoreKind = 'postgres' | 'embedded';
export const STORE_KINDS: readonly StoreKind[] = ['postgres', 'embedded'];

/** Requests to one of a gateway's two apps, by path: over a socket, or injected (inject.ts). */
export interface HttpClient {
  /** POSTs `body` to `path`; sent as is when a string or bytes, as JSON otherwise. */
  post(path: string, body: unknown, options?: PostOptions): Promise<HttpResponse>;
  request(path: string, options: RequestOptions): Promise<HttpResponse>;
}

export interface RequestOptions {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  dispatcher?: Dispatcher;
}

/** A test gateway however it is reached: the route helpers work with either. */
export interface ReachableGateway {
  kind: StoreKind;
  store: Store;
  /** The partner-facing app (/mra/v1). */
  partner: HttpClient;
  /** The internal API app (/api/v1). */
  api: HttpClient;
  /** POSTs a records batch; `body` is sent as is when a string or bytes, as JSON otherwise. */
  post(body: unknown, options?: PostOptions): Promise<HttpResponse>;
  /** POSTs `{ records }` and returns the receipt, failing the test on anything but 200. */
  send(records: readonly string[], options?: PostOptions): Promise<SentBatch>;
  close(): Promise<void>;
}

export interface TestGateway extends ReachableGateway {
  gateway: Gateway;
  url: string;
}

export interface PostOptions {
  contentType?: string;
  headers?: Record<string, string>;
  dispatcher?: Dispatcher;
  path?: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface SentBatch {
  receiptJws: string;
  receipt: Receipt;
  results: ReceiptResult[];
}

export async function openTestStore(kind: StoreKind): Promise<{ store: Store; dispose(): Promise<void> }> {
  if (kind === 'embedded') {
    const store = await openStore({ kind: 'embedded', dataDir: 'memory://' });
    return { store, dispose: () => store.close() };
  }
  const db = await createTestDatabase();
  const store = await openStore({ kind: 'postgres', databaseUrl: db.url });
  return {
    store,
    async dispose() {
      await store.close();
      await db.drop();
    },
  };
}

export async function startTestGateway(
  config: GatewayConfig,
  kind: StoreKind,
  options: {
    log?: ReturnType<typeof createLogger>;
    clock?: () => Date;
    /** A store another test gateway opened: shared, and left open on close. */
    store?: Store;
  } = {},
): Promise<TestGateway> {
  const { store, dispose } = options.store
    ? { store: options.store, dispose: async () => {} }
    : await openTestStore(kind);
  const gateway = await startGateway(config, {
    store,
    log: options.log ?? createLogger('silent'),
    waitForReadModel: true,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const reachable = reachableGateway(
    kind,
    store,
    socketClient(gateway.url),
    socketClient(gateway.apiUrl),
    async () => {
      await gateway.close();
      await dispose();
    },
  );
  return { ...reachable, gateway, url: gateway.url };
}

/** The shared part of a test gateway, over the two clients given. */
export function reachableGateway(
  kind: StoreKind,
  store: Store,
  partner: HttpClient,
  api: HttpClient,
  close: () => Promise<void>,
): ReachableGateway {
  const post = (body: unknown, o: PostOptions = {}) => partner.post(o.path ?? '/mra/v1/records', body, o);
  return {
    kind,
    store,
    partner,
    api,
    post,
    async send(records, o = {}) {
      return receiptOf(await post({ records }, o));
    },
    close,
  };
}

/** The receipt of a records POST, failing the test on anything but 200. */
export function receiptOf(res: HttpResponse): SentBatch {
  if (res.status !== 200) throw new Error(`expected 200, got ${res.status}: ${res.text.slice(0, 300)}`);
  const receiptJws = (JSON.parse(res.text) as { receipt: string }).receipt;
  const receipt = decodePayload(receiptJws) as Receipt;
  return { receiptJws, receipt, results: receipt.results };
}

/** A client of the listener at `baseUrl`, over real sockets. */
export function socketClient(baseUrl: string): HttpClient {
  return {
    post: (path, body, o = {}) => postTo(`${baseUrl}${path}`, body, o),
    request: (path, o) => httpRequest(`${baseUrl}${path}`, o),
  };
}

export async function postTo(target: string, body: unknown, o: PostOptions = {}): Promise<HttpResponse> {
  const payload = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
  return httpRequest(target, {
    method: 'POST',
    headers: { 'content-type': o.contentType ?? 'application/json', ...o.headers },
    body: payload,
    ...(o.dispatcher ? { dispatcher: o.dispatcher } : {}),
  });
}

export async function httpRequest(target: string, options: RequestOptions): Promise<HttpResponse> {
  const res = await request(target, {
    method: options.method,
    headers: options.headers ?? {},
    ...(options.body !== undefined ? { body: options.body } : {}),
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    headersTimeout: 20_000,
    bodyTimeout: 20_000,
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

/** The payload of a compact JWS, parsed; for reading receipts the test then verifies on its own. */
export function decodePayload(jws: string): unknown {
  const [, payload] = jws.split('.');
  return JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'));
}

/** Asserts an RFC 9457 problem document with the given status and code; returns it. */
export function expectProblem(res: HttpResponse, status: number, code: string): Record<string, unknown> {
  expect(res.status, res.text.slice(0, 300)).toBe(status);
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json(;|$)/);
  const problem = JSON.parse(res.text) as Record<string, unknown>;
  expect(problem).toEqual({
    type: `urn:mra-exchange:problem:${code.toLowerCase().replaceAll('_', '-')}`,
    title: expect.any(String),
    status,
    code,
    detail: expect.any(String),
  });
  expect((problem.title as string).length).toBeGreaterThan(0);
  return problem;
}

/** The outcome (and code) of every result, in order: ['accepted', 'rejected:SCHEMA_INVALID', ...]. */
export function outcomes(results: readonly ReceiptResult[]): string[] {
  return results.map((r) => (r.outcome === 'rejected' ? `rejected:${r.code}` : r.outcome));
}

export const TABLES = [
  'inbound_record',
  'operator_state',
  'operator_identifier',
  'inbound_receipt',
  'security_event',
] as const;
export type TableCounts = Record<(typeof TABLES)[number], number>;

export async function tableCounts(store: Store): Promise<TableCounts> {
  const [row] = await store.query<Record<string, string>>(
    `SELECT ${TABLES.map((t) => `(SELECT count(*) FROM ${t})::text AS ${t}`).join(', ')}`,
  );
  return Object.fromEntries(TABLES.map((t) => [t, Number(row?.[t])])) as TableCounts;
}

/** What a record left behind: rows under its recordId and under its operator. */
export async function traceOf(
  store: Store,
  ids: { recordIds?: readonly string[]; aeoIds?: readonly string[] },
): Promise<number> {
  const recordIds = JSON.stringify(ids.recordIds ?? []);
  const aeoIds = JSON.stringify(ids.aeoIds ?? []);
  const [row] = await store.query<{ n: string }>(
    `SELECT ((SELECT count(*) FROM inbound_record
               WHERE record_id::text IN (SELECT jsonb_array_elements_text($1::jsonb))
                  OR aeo_id IN (SELECT jsonb_array_elements_text($2::jsonb)))
           + (SELECT count(*) FROM operator_state
               WHERE record_id::text IN (SELECT jsonb_array_elements_text($1::jsonb))
                  OR aeo_id IN (SELECT jsonb_array_elements_text($2::jsonb)))
           + (SELECT count(*) FROM operator_identifier
               WHERE aeo_id IN (SELECT jsonb_array_elements_text($2::jsonb))))::text AS n`,
    [recordIds, aeoIds],
  );
  return Number(row?.n);
}

/**
 * "No trace" (docs/threats.md): the evidence and state tables hold as many rows as before, none of them under the
 * given recordIds or operators, and no security event was written.
 */
export async function expectNoTrace(
  store: Store,
  before: TableCounts,
  ids: { recordIds?: readonly string[]; aeoIds?: readonly string[] } = {},
): Promise<void> {
  const after = await tableCounts(store);
  expect({
    inbound_record: after.inbound_record,
    operator_state: after.operator_state,
    operator_identifier: after.operator_identifier,
    security_event: after.security_event,
  }).toEqual({
    inbound_record: before.inbound_record,
    operator_state: before.operator_state,
    operator_identifier: before.operator_identifier,
    security_event: before.security_event,
  });
  expect(await traceOf(store, ids)).toBe(0);
}

/**
 * Sends `tokens` as one batch and asserts that each is rejected with `code` (named variants keep a failure
 * readable), that each variant named in `details` has a detail matching its pattern (the rule that fired),
 * and that none of `records` left a trace.
 */
export async function expectRejected(
  gw: ReachableGateway,
  variants: Record<string, string>,
  code: string,
  records: readonly { recordId: string; operator: { aeoId: string } }[] = [],
  details: Record<string, RegExp> = {},
): Promise<ReceiptResult[]> {
  const names = Object.keys(variants);
  const before = await tableCounts(gw.store);
  const { results } = await gw.send(Object.values(variants));
  const got = Object.fromEntries(names.map((n, i) => [n, outcomes([results[i]!])[0]]));
  expect(got).toEqual(Object.fromEntries(names.map((n) => [n, `rejected:${code}`])));
  for (const [name, pattern] of Object.entries(details)) {
    expect(names, name).toContain(name);
    expect(results[names.indexOf(name)]!.detail, name).toMatch(pattern);
  }
  await expectNoTrace(gw.store, before, {
    recordIds: records.map((r) => r.recordId),
    aeoIds: records.map((r) => r.operator.aeoId),
  });
  return results;
}
