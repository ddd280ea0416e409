/**
 * The national AEO system's side of the internal API for tests: bearer tokens configured by their SHA-256,
 * decisions posted over real HTTP to the API listener, and readers of what publishing left in the store.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { Readable } from 'node:stream';
import { request } from 'undici';
import type { RawConfig } from '../../src/config/raw.ts';
import { RECORD_PROFILE } from '../../src/crypto/compact-jws.ts';
import { verifySignedObject } from '../../src/crypto/verify-signed.ts';
import type { Partner } from '../../src/mra/types.ts';
import type { AeoStatusRecord } from '../../src/protocol/record.ts';
import type { Store } from '../../src/store/types.ts';
import { validateAgainst } from '../../src/validation.ts';
import type { HttpResponse, ReachableGateway, TestGateway } from './gateway.ts';

const token = () => randomBytes(32).toString('base64url');

/** One token per kind of client: the national AEO system, a border system, and one the gateway never heard of. */
export const TOKENS = { publish: token(), border: token(), unknown: token() } as const;

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** For makeAdmins' `edit`: the API clients every publishing test uses. */
export function withApiClients(raw: RawConfig): void {
  raw.apiClients = [
    { id: 'national-aeo', tokenSha256: sha256(TOKENS.publish), scopes: ['publish'] },
    { id: 'border-risk', tokenSha256: sha256(TOKENS.border), scopes: ['border'] },
  ];
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

/** POSTs a decision to the API app with the publishing token unless another is given. */
export function postDecision(gw: ReachableGateway, body: unknown, t: string | null = TOKENS.publish) {
  return gw.api.post('/api/v1/decisions', body, { headers: t === null ? {} : bearer(t) });
}

export function apiGet(
  gw: ReachableGateway,
  path: string,
  t: string = TOKENS.publish,
): Promise<HttpResponse> {
  return gw.api.request(`/api/v1${path}`, { method: 'GET', headers: bearer(t) });
}

export interface DecisionResult {
  decisionId: string;
  aeoId: string;
  record: { recordId: string; version: number; status: string; partners: string[] } | null;
  replayed: boolean;
}

/** Posts a decision that must succeed (201, or 200 for a replay) and returns the publisher's result. */
export async function decide(gw: ReachableGateway, body: Record<string, unknown>): Promise<DecisionResult> {
  const res = await postDecision(gw, { decisionId: crypto.randomUUID(), ...body });
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`decision refused: ${res.status} ${res.text.slice(0, 300)}`);
  return JSON.parse(res.text) as DecisionResult;
}

let next = randomInt(1_000_000, 50_000_000);
/** A new national operator id, so tests sharing a gateway never see each other's operators. */
export function freshAeoId(prefix = 'PE'): string {
  next += 1;
  return `${prefix}AEO${next}`;
}

export function operatorDetails(aeoId: string, roles: string[] = ['exporter', 'manufacturer']) {
  return {
    identifiers: [
      { scheme: 'TIN', value: `${aeoId}T` },
      { scheme: 'EORI', value: `${aeoId}E` },
    ],
    name: `Exportadora ${aeoId} S.A.C.`,
    address: { street: 'Av. Argentina 123', city: 'Callao', postcode: '07001', country: 'PE' },
    roles,
    enterpriseSize: 'small',
  };
}

/** A complete certify decision for a new operator, consenting unless overridden. */
export function certifyBody(aeoId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    aeoId,
    decision: 'certify',
    consent: true,
    programme: 'AEO-F',
    statusSince: '2025-03-01',
    certifiedOn: '2025-03-01',
    lastValidatedOn: '2026-03-01',
    operator: operatorDetails(aeoId),
    ...overrides,
  };
}

export interface HomeRecordRow {
  seq: string;
  recordId: string;
  version: number;
  status: string;
  jws: string;
  partners: string[];
}

/** Every record signed for an operator, oldest first, with the partners it has outbox rows for. */
export async function homeRecords(store: Store, aeoId: string): Promise<HomeRecordRow[]> {
  const rows = await store.query<{
    seq: string;
    record_id: string;
    version: string;
    status: string;
    jws: string;
    partners: string[];
  }>(
    `SELECT h.seq::text, h.record_id::text, h.version::text, h.status, h.jws,
            ARRAY(SELECT o.partner FROM outbox o WHERE o.record_seq = h.seq ORDER BY o.partner) AS partners
       FROM home_record h WHERE h.aeo_id = $1 ORDER BY h.version`,
    [aeoId],
  );
  return rows.map((r) => ({
    seq: r.seq,
    recordId: r.record_id,
    version: Number(r.version),
    status: r.status,
    jws: r.jws,
    partners: r.partners,
  }));
}

/** Rows of the publishing tables, to show that a refused or replayed decision added nothing. */
export async function publishCounts(store: Store): Promise<Record<string, number>> {
  const [row] = await store.query<Record<string, string>>(
    `SELECT (SELECT count(*) FROM home_operator)::text AS home_operator,
            (SELECT count(*) FROM home_decision)::text AS home_decision,
            (SELECT count(*) FROM home_record)::text AS home_record,
            (SELECT count(*) FROM outbox)::text AS outbox`,
  );
  return Object.fromEntries(Object.entries(row ?? {}).map(([k, v]) => [k, Number(v)]));
}

/**
 * Verifies a published record as a partner would: strict JWS, x5c chain to the home CA as the partner has
 * it configured, signature, strict JSON, and the strict aeo-status/1 schema. Returns the record.
 */
export async function verifyAsPartner(jws: string, homeAtPartner: Partner): Promise<AeoStatusRecord> {
  const verified = await verifySignedObject(jws, {
    profile: RECORD_PROFILE,
    stores: [homeAtPartner.trust],
    at: new Date(),
  });
  if (!verified.ok) throw new Error(`record does not verify: ${verified.code} ${verified.detail}`);
  if (verified.signer !== homeAtPartner.adminId) throw new Error(`signed by ${verified.signer}`);
  const valid = validateAgainst('aeo-status-1', verified.payload);
  if (!valid.ok) throw new Error(`record is not aeo-status/1: ${valid.errors.join('; ')}`);
  return verified.payload as AeoStatusRecord;
}

export interface ImportOptions {
  contentType?: string;
  importId?: string;
  token?: string | null;
}

/** POSTs a register import; a string or bytes are sent as they are, an iterable streamed as it is produced. */
export async function postImport(
  gw: TestGateway,
  body: string | Uint8Array | AsyncIterable<string | Uint8Array>,
  o: ImportOptions = {},
): Promise<HttpResponse> {
  const query = o.importId === undefined ? '' : `?importId=${o.importId}`;
  const t = o.token === undefined ? TOKENS.publish : o.token;
  const res = await request(`${gw.gateway.apiUrl}/api/v1/register/imports${query}`, {
    method: 'POST',
    headers: { 'content-type': o.contentType ?? 'application/x-ndjson', ...(t === null ? {} : bearer(t)) },
    body: typeof body === 'string' || body instanceof Uint8Array ? body : Readable.from(body),
    // A large import answers when its last line is applied: minutes on a loaded machine.
    headersTimeout: 300_000,
    bodyTimeout: 300_000,
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

export interface ImportProgressBody {
  importId: string;
  format: string;
  state: 'running' | 'finished' | 'failed';
  runs: number;
  linesRead: number;
  applied: number;
  replayed: number;
  published: number;
  rejected: number;
  errors: { line: number; code: string; detail: string }[];
  failure: string | null;
  finishedAt: string | null;
}

export async function importProgress(gw: ReachableGateway, importId: string): Promise<ImportProgressBody> {
  const res = await apiGet(gw, `/register/imports/${importId}`);
  if (res.status !== 200) throw new Error(`progress: ${res.status} ${res.text.slice(0, 300)}`);
  return JSON.parse(res.text) as ImportProgressBody;
}
