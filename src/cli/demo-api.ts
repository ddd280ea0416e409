/**
 * The demo's clients of the gateways' internal API: one bearer token per scope for each administration, as
 * each of its own systems would hold (the national AEO system: publish; border systems: border; the IT team:
 * admin; the joint committee: monitoring). Only their SHA-256 goes into the configuration.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'undici';
import type { RawConfig } from '../config/raw.ts';
import type { ApiScope } from '../config/types.ts';
import type { Gateway } from '../gateway.ts';

export const DEMO_SCOPES = [
  'publish',
  'border',
  'admin',
  'monitoring',
] as const satisfies readonly ApiScope[];
export type DemoScope = (typeof DEMO_SCOPES)[number];
export type DemoTokens = Record<DemoScope, string>;

export interface DemoClient {
  gateway: Gateway;
  tokens: DemoTokens;
}

export function makeTokens(): DemoTokens {
  const token = () => randomBytes(32).toString('base64url');
  return { publish: token(), border: token(), admin: token(), monitoring: token() };
}

/** One API client per scope, named after it (`demo-border`), as they appear in logs and 403 details. */
export function apiClientsOf(tokens: DemoTokens): NonNullable<RawConfig['apiClients']> {
  return DEMO_SCOPES.map((scope) => ({
    id: `demo-${scope}`,
    tokenSha256: createHash('sha256').update(tokens[scope]).digest('hex'),
    scopes: [scope],
  }));
}

export interface ApiAnswer {
  status: number;
  contentType: string;
  text: string;
}

/** A request to `<api>/api/v1<path>` (or `<api><path>` for a path outside it) with the scope's token. */
export async function callApi(
  client: DemoClient,
  scope: DemoScope,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<ApiAnswer> {
  const url = path.startsWith('/api/') || path.startsWith('/metrics') ? path : `/api/v1${path}`;
  const response = await request(`${client.gateway.apiUrl}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${client.tokens[scope]}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.body.text();
  const type = response.headers['content-type'];
  return { status: response.statusCode, contentType: String(type ?? ''), text };
}

/** callApi for JSON answers: throws on anything but 2xx, with the problem document's start. */
export async function api<T = unknown>(
  client: DemoClient,
  scope: DemoScope,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<T> {
  const answer = await callApi(client, scope, method, path, body);
  if (answer.status >= 300)
    throw new Error(`${method} ${path}: HTTP ${answer.status} ${answer.text.slice(0, 300)}`);
  return JSON.parse(answer.text) as T;
}
