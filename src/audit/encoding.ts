/**
 * The canonical encoding of an audit entry: the one definition behind the hash that links the chain, used
 * when an entry is appended and again when the chain is verified, here or offline with any JSON
 * canonicaliser (docs/monitoring.md, "Audit trail").
 *
 *   hash = lowercase hex SHA-256 of the UTF-8 bytes of
 *          JCS([seq, at, kind, actor, subject, digest, detail, prev_hash])
 *
 * JCS is the JSON Canonicalization Scheme (RFC 8785): no white space, object members sorted by their
 * UTF-16 code units, numbers and strings as ECMAScript serialises them. `seq` is a JSON number; `at` is
 * the instant in UTC with six fractional digits (`2026-05-01T12:00:00.123000Z`, the precision PostgreSQL
 * keeps); `detail` is an object or null; `prev_hash` of the first entry is 64 zeros.
 */
import { createHash } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);

export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

export interface ChainedFields {
  seq: number;
  /** See `canonicalInstant`. */
  at: string;
  kind: string;
  actor: string;
  subject: string;
  digest: string;
  detail: Record<string, unknown> | null;
  prevHash: string;
}

/** An entry as stored: its chained fields and the hash over them. */
export interface AuditEntry extends ChainedFields {
  hash: string;
}

/** RFC 8785 serialisation. Members whose value is undefined are left out, as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('audit detail: numbers must be finite');
    return JSON.stringify(value);
  }
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value))
    return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new TypeError(`audit detail: a ${typeof value} is not JSON`);
}

/** An instant as the chain spells it: UTC, six fractional digits. A Date carries milliseconds only. */
export function canonicalInstant(at: Date): string {
  return at.toISOString().replace(/Z$/, '000Z');
}

export function entryHash(f: ChainedFields): string {
  const text = canonicalJson([f.seq, f.at, f.kind, f.actor, f.subject, f.digest, f.detail, f.prevHash]);
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
