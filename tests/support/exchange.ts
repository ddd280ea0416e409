/**
 * Gateways that talk to each other for the pull tests: administrations whose partner endpoints name the real
 * loopback ports their gateways will listen on, API tokens for publishing and operating, decisions posted to
 * the decisions API, request tokens signed as a partner would, and GETs of feed and snapshot pages.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import type { RawConfig } from '../../src/config/raw.ts';
import type { GatewayConfig, Signer } from '../../src/config/types.ts';
import { type SignOptions, signRequestToken } from '../../src/partner-client/request-token.ts';
import { makeAdmins, type TestAdmins } from './admins.ts';
import { freePorts } from './free-ports.ts';
import type { HttpResponse, ReachableGateway } from './gateway.ts';

const token = () => randomBytes(32).toString('base64url');
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** API tokens: the national system with publish and admin scopes, monitoring only, publish only. */
export const API_TOKENS = { operator: token(), monitoring: token(), publishOnly: token() } as const;

export function bearer(t: string): Record<string, string> {
  return { authorization: `Bearer ${t}` };
}

export { freePorts };

export interface LinkedOptions {
  mtls?: boolean;
  /**
   * Push delivery runs on Redis; these tests are about pulling, which must work without it, so by default
   * each gateway is pointed at a loopback port where no Redis listens and push delivery stays waiting.
   */
  redis?: boolean;
  /** Adjusts each administration's configuration after the links are set. */
  edit?: (adminId: string, raw: RawConfig) => void;
}

/**
 * Administrations whose gateways listen on fixed loopback ports that every partner configuration names, with
 * the API tokens above; pulling and reconciling on timers are off (tests run them once, explicitly).
 */
export async function makeLinkedAdmins(
  ids: readonly string[],
  options: LinkedOptions = {},
): Promise<TestAdmins> {
  const ports = await freePorts(ids.length + 1);
  const noRedis = { REDIS_URL: `redis://127.0.0.1:${ports[ids.length]}` };
  const portOf = new Map(ids.map((id, i) => [id, ports[i]!]));
  const scheme = options.mtls ? 'https' : 'http';
  return makeAdmins(ids, {
    mtls: options.mtls ?? false,
    ...(options.redis ? {} : { env: noRedis }),
    edit: (id, raw) => {
      raw.server = { ...raw.server, port: portOf.get(id)! };
      for (const p of raw.partners) p.endpoint = `${scheme}://127.0.0.1:${portOf.get(p.adminId)}/mra/v1`;
      raw.apiClients = [
        { id: 'national-aeo', tokenSha256: sha256(API_TOKENS.operator), scopes: ['publish', 'admin'] },
        { id: 'monitoring', tokenSha256: sha256(API_TOKENS.monitoring), scopes: ['monitoring'] },
        { id: 'publisher', tokenSha256: sha256(API_TOKENS.publishOnly), scopes: ['publish'] },
      ];
      raw.outbound = { ...raw.outbound, pullIntervalMs: 0, reconcileIntervalMs: 0 };
      options.edit?.(id, raw);
    },
  });
}

let next = randomInt(1_000_000, 50_000_000);
/** A new national operator id, so tests sharing gateways never see each other's operators. */
export function newAeoId(prefix: string): string {
  next += 1;
  return `${prefix}OP${next}`;
}

/** A test gateway, over sockets or injected, with its configuration. */
export type ExchangeGateway = ReachableGateway & { gateway: { config: GatewayConfig } };

/** Certifies (or suspends, with `decision`) an operator at `gw` through the decisions API; fails on refusal. */
export async function publish(
  gw: ReachableGateway,
  aeoId: string,
  overrides: Record<string, unknown> = {},
): Promise<{ record: { recordId: string; version: number; partners: string[] } | null }> {
  const body = {
    decisionId: crypto.randomUUID(),
    aeoId,
    decision: 'certify',
    consent: true,
    programme: 'AEO-F',
    certifiedOn: '2025-03-01',
    operator: {
      identifiers: [{ scheme: 'TIN', value: `${aeoId}T` }],
      name: `Operator ${aeoId}`,
      address: { street: 'Av. Argentina 123', city: 'Callao', country: 'PE' },
      roles: ['exporter', 'manufacturer'],
    },
    ...overrides,
  };
  const res = await gw.api.post('/api/v1/decisions', body, {
    headers: bearer(API_TOKENS.operator),
  });
  if (res.status !== 201) throw new Error(`decision refused: ${res.status} ${res.text.slice(0, 300)}`);
  return JSON.parse(res.text) as { record: { recordId: string; version: number; partners: string[] } | null };
}

/** A request token of `iss` for `aud`, signed with `signer` (normally iss's own). */
export function requestToken(
  signer: Signer,
  iss: string,
  aud: string,
  options: SignOptions = {},
): Promise<string> {
  return signRequestToken(signer, { iss, aud }, options);
}

/** GETs `path` below /mra/v1 with `authorization` as given (none when undefined). */
export function getPartnerRoute(
  gw: ReachableGateway,
  path: string,
  authorization: string | undefined,
): Promise<HttpResponse> {
  return gw.partner.request(`/mra/v1${path}`, {
    method: 'GET',
    headers: authorization === undefined ? {} : { authorization },
  });
}

export interface PageBody {
  records: string[];
  next: string;
  asOf?: string;
  count?: number;
  digest?: string;
}

/** GETs one feed or snapshot page as `partner` with a fresh token; fails the test on anything but 200. */
export async function getPage(
  gw: ExchangeGateway,
  admins: TestAdmins,
  partner: string,
  path: string,
): Promise<PageBody> {
  const home = gw.gateway.config.home.adminId;
  const jws = await requestToken(admins.get(partner).config.home.signers[0]!, partner, home);
  const res = await getPartnerRoute(gw, path, `MRA ${jws}`);
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.text.slice(0, 300)}`);
  return JSON.parse(res.text) as PageBody;
}

/** The payload of a record's compact JWS, for the test's own independent reading. */
export function payloadOf(jws: string): { issuer: string; version: number; operator: { aeoId: string } } {
  return JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8'));
}

/**
 * The snapshot digest as docs/protocol.md defines it, computed here without the gateway's code: the lines
 * `issuer TAB aeoId TAB version TAB base64url(SHA-256(jws)) LF`, sorted bytewise, hashed.
 */
export function digestOfRecords(records: readonly string[]): string {
  return digestOfLines(
    records.map((jws) => {
      const p = payloadOf(jws);
      return { issuer: p.issuer, aeoId: p.operator.aeoId, version: p.version, jws };
    }),
  );
}

/** The same digest over lines whose version is given apart from the record (a state row's version). */
export function digestOfLines(
  lines: readonly { issuer: string; aeoId: string; version: number | string; jws: string }[],
): string {
  const encoded = lines.map(({ issuer, aeoId, version, jws }) => {
    const d = createHash('sha256').update(jws, 'utf8').digest('base64url');
    return Buffer.from(`${issuer}\t${aeoId}\t${version}\t${d}\n`, 'utf8');
  });
  encoded.sort(Buffer.compare);
  return createHash('sha256').update(Buffer.concat(encoded)).digest('hex');
}
