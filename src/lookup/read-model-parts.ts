/**
 * The read model's columns as a snapshot holds them (snapshot-codec.ts), the layout of a version row, and the
 * checks a model built from a snapshot passes before it answers: a snapshot is input, so every code and link is
 * checked, and each operator's versions strictly decrease along its list, so that no walk can loop or read
 * outside the columns.
 */
import { type AeoStatus, PROGRAMMES, type Programme, type Role } from '../protocol/record.ts';
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

/** The capacity a column of `n` entries is given when it is built whole (from a snapshot): room to grow. */
export const roomFor = (n: number) => Math.max(1024, n + (n >> 3));

/**
 * The entries a decoded column of `n` (named as in ReadModelParts) is allocated with: the operator and row
 * columns get the room ReadModel.fromParts gives them, so that it keeps them instead of a copy; others `n`.
 */
export function decodedRoom(column: string, n: number): number {
  if (column === 'opIssuer' || column === 'opHead') return roomFor(n);
  return column === 'rows' ? roomFor(n / ROW) * ROW : n;
}

/**
 * The buffer behind `view` when the view starts it and the buffer can be taken as a column of at least
 * `minBytes` (a whole number of `unit` bytes); undefined when the view must be copied instead.
 */
export function adoptable(view: ArrayBufferView, minBytes: number, unit: number): ArrayBuffer | undefined {
  const { buffer } = view;
  if (!(buffer instanceof ArrayBuffer) || view.byteOffset !== 0) return undefined;
  return buffer.byteLength >= minBytes && buffer.byteLength % unit === 0 ? buffer : undefined;
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
