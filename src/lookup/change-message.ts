/**
 * Change events come back from Redis, which anyone with access to it could write to: each is checked like
 * untrusted input before it touches the read model (docs/threats.md 67, in spirit). A bad one is dropped and the
 * caller reloads from PostgreSQL instead.
 */

import type { InboundChange, OperatorChange } from '../inbound/change.ts';
import { PROGRAMMES, ROLES } from '../protocol/record.ts';
import { STATUSES } from './read-model.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DIGEST = /^[A-Za-z0-9_-]{43}$/;
const MAX_MESSAGE = 16 * 1024 * 1024;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown, max = 200): v is string =>
  typeof v === 'string' && v.length > 0 && v.length <= max;
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export function parseChange(message: string): InboundChange | undefined {
  if (message.length > MAX_MESSAGE) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (!isObj(data) || !isInt(data.receivedAt) || !Array.isArray(data.changes)) return undefined;
  if (data.sender !== null && !isStr(data.sender, 8)) return undefined;
  const changes: OperatorChange[] = [];
  for (const c of data.changes) {
    const parsed = parseOne(c);
    if (parsed === undefined) return undefined;
    changes.push(parsed);
  }
  return { sender: data.sender, receivedAt: data.receivedAt, changes };
}

function parseOne(c: unknown): OperatorChange | undefined {
  if (!isObj(c)) return undefined;
  const { issuer, aeoId, version, recordId, digest, status, statusSince, programme, roles, identifiers } = c;
  if (!isStr(issuer, 8) || !isStr(aeoId) || !isInt(version)) return undefined;
  if (typeof recordId !== 'string' || !UUID.test(recordId)) return undefined;
  if (typeof digest !== 'string' || !DIGEST.test(digest)) return undefined;
  if (typeof statusSince !== 'string' || !DATE.test(statusSince)) return undefined;
  const st = STATUSES.find((s) => s === status);
  const pr = PROGRAMMES.find((p) => p === programme);
  if (st === undefined || pr === undefined || !Array.isArray(roles) || !Array.isArray(identifiers))
    return undefined;
  const rs = roles.map((r) => ROLES.find((x) => x === r));
  if (rs.some((r) => r === undefined)) return undefined;
  const ids: { scheme: string; value: string }[] = [];
  for (const i of identifiers) {
    if (!isObj(i) || !isStr(i.scheme) || !isStr(i.value)) return undefined;
    ids.push({ scheme: i.scheme, value: i.value });
  }
  return {
    issuer,
    aeoId,
    version,
    recordId,
    digest,
    status: st,
    statusSince,
    programme: pr,
    roles: rs.filter((r) => r !== undefined),
    identifiers: ids,
  };
}
