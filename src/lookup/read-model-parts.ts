/**
 * The read model's columns as a snapshot holds them (snapshot-codec.ts), the layout of a version row, and the
 * checks a model built from a snapshot passes before it answers: a snapshot is input, so every code and link is
 * checked, and each operator's versions strictly decrease along its list, so that no walk can loop or read
 * outside the columns.
 */
import {
  MAX_AEO_ID,
  MAX_IDENTIFIER_SCHEME,
  MAX_IDENTIFIER_VALUE,
  MAX_IDENTIFIERS,
} from '../protocol/names.ts';
import { type AeoStatus, PROGRAMMES, type Programme, type Role } from '../protocol/record.ts';
import { arenaRoomFor, roomFor } from './columns.ts';
import type { IdentifierIndexParts } from './identifier-index.ts';
import type { KeyIndexParts } from './key-index.ts';

export const STATUSES: readonly AeoStatus[] = ['certified', 'suspended', 'revoked', 'withdrawn'];

/** One accepted version, as it enters the model (from PostgreSQL or from a change event). */
export interface VersionInput {
  issuer: string;
  aeoId: string;
  version: number;
  recordId: string;
  /** base64url SHA-256 of the record's compact JWS. */
  digest: string;
  status: AeoStatus;
  /** YYYY-MM-DD. */
  statusSince: string;
  programme: Programme;
  roles: readonly Role[];
  /** Epoch milliseconds. */
  receivedAt: number;
}

/** One version, as answers read it. */
export type OperatorVersion = Omit<VersionInput, 'roles'> & { roles: Role[] };

/** The model as a snapshot holds it (snapshot-codec.ts). */
export interface ReadModelParts {
  issuers: string[];
  lastFrom: [string, number][];
  lastChangeAt: number | undefined;
  /** Per operator slot. */
  opIssuer: Uint16Array;
  opHead: Int32Array;
  /** versionCount rows of ROW_BYTES each. */
  rows: Uint8Array;
  operators: KeyIndexParts;
  identifiers: IdentifierIndexParts;
}

/** Bytes of a version row, and where each field sits (in units of the view that reads it). */
export const ROW = 88;
export const F64 = ROW / 8;
export const I32 = ROW / 4;
export const U16 = ROW / 2;
export const FROM = 0; // f64: effectiveFrom
export const RECEIVED = 1; // f64
export const VERSION = 2; // f64
export const NEXT = 6; // i32, bytes 24–27: the next lower version's row, -1 at the end
export const OP = 7; // i32: the operator's slot
export const SINCE_DAY = 8; // i32: statusSince in days since 1970-01-01
export const ROLES_AT = 18; // u16, bytes 36–37: mask of ROLES
export const STATUS = 38; // u8: index in STATUSES
export const PROGRAMME = 39; // u8: index in PROGRAMMES
export const RECORD_ID = 40; // 16 bytes
export const DIGEST = 56; // 32 bytes, to 88
export const ROW_BYTES = ROW;

export const partsError = (what: string) => new Error(`read model: ${what}`);

/**
 * The entries a decoded column of `n` (named as in ReadModelParts) is allocated with: the room the model gives
 * the column when it builds it whole, so that it keeps the decoded column instead of a copy.
 */
export function decodedRoom(column: string, n: number): number {
  if (column === 'rows') return roomFor(n / ROW) * ROW;
  if (column === 'moreSlots') return n;
  return column.endsWith('.arena') ? arenaRoomFor(n) : roomFor(n);
}

/** The most characters of an identifier's key in an arena: scheme, separator, value (protocol/names.ts). */
const MAX_IDENTIFIER_KEY = MAX_IDENTIFIER_SCHEME + 1 + MAX_IDENTIFIER_VALUE;

/** What a snapshot's head says it holds. */
export interface ModelCounts {
  operators: number;
  versions: number;
}

/**
 * The most entries each column of a model of `c` can have, in SECTIONS order (snapshot-codec.ts), given
 * `identifiers` identifier entries; undefined when it cannot have that many. Every operator has a version,
 * every identifier entry came from a version's record, and every operator has at most MAX_IDENTIFIERS nodes at
 * once (nodes are reused).
 */
export function maxEntries(c: ModelCounts, identifiers: number): Record<string, number> | undefined {
  const { operators: o, versions: v } = c;
  const counted = (n: number) => Number.isSafeInteger(n) && n >= 0;
  if (!counted(o) || !counted(v) || !counted(identifiers)) return undefined;
  if (o > v || identifiers > v * MAX_IDENTIFIERS) return undefined;
  const nodes = o * MAX_IDENTIFIERS;
  const keys = (prefix: string, n: number, units: number) => ({
    [`${prefix}.start`]: n,
    [`${prefix}.length`]: n,
    [`${prefix}.tags`]: n,
    [`${prefix}.arena`]: n * units,
  });
  return {
    opIssuer: o,
    opHead: o,
    rows: v * ROW,
    ...keys('operators', o, MAX_AEO_ID),
    ...keys('identifiers', identifiers, MAX_IDENTIFIER_KEY),
    firstSlot: identifiers,
    moreSlots: 2 * identifiers + nodes,
    head: o,
    nodeEntry: nodes,
    nodeNext: nodes,
  };
}

/** What the check reads of a model's version rows (the read model, without importing it). */
export interface ModelRows {
  slotOfRow(row: number): number;
  nextRowOf(row: number): number;
  versionOf(row: number): number;
  statusCodeOf(row: number): number;
  programmeCodeOf(row: number): number;
}

/** Throws unless the model built from `p` (`rows` version rows) is sound; see the header. */
export function checkModel(m: ModelRows, p: ReadModelParts, rows: number): void {
  const n = p.opHead.length;
  for (let slot = 0; slot < n; slot += 1) {
    const head = p.opHead[slot]!;
    if (p.opIssuer[slot]! >= p.issuers.length || head < -1 || head >= rows)
      throw partsError('a bad operator');
    if (head >= 0 && m.slotOfRow(head) !== slot) throw partsError('a head of another operator');
  }
  for (let row = 0; row < rows; row += 1) {
    const next = m.nextRowOf(row);
    const slot = m.slotOfRow(row);
    if (slot < 0 || slot >= n || next < -1 || next >= rows) throw partsError('a row out of range');
    if (next >= 0 && (m.slotOfRow(next) !== slot || !(m.versionOf(next) < m.versionOf(row))))
      throw partsError('a broken version list');
    if (m.statusCodeOf(row) >= STATUSES.length || m.programmeCodeOf(row) >= PROGRAMMES.length)
      throw partsError('an unknown code');
  }
}
