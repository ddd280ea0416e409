/**
 * The read model as bytes: its typed-array columns back to back, after a short JSON header that names them.
 * Writing and reading are copies of memory, so a million operators start in seconds instead of the minute a
 * load from PostgreSQL takes. The bytes are only ever read after their SHA-256 matched (snapshot-store.ts), yet
 * every length, code and link is checked again when they are decoded (snapshot-decode.ts) and in
 * ReadModel.fromParts: a snapshot is input.
 */
import { PROGRAMMES, ROLES } from '../protocol/record.ts';
import type { IdentifierIndexParts } from './identifier-index.ts';
import type { KeyIndexParts } from './key-index.ts';
import { type ReadModelParts, ROW_BYTES, STATUSES } from './read-model-parts.ts';

/** Raised whenever the layout of the bytes or of the model changes: an older snapshot is then not read. */
export const SNAPSHOT_FORMAT = 2;
export const MAGIC = Buffer.from('MRA-RM\r\n', 'latin1');
/** The magic, the header's length (4 bytes, little-endian) and 4 unused bytes. */
export const PRELUDE = MAGIC.length + 8;
export const MAX_HEADER = 1024 * 1024;
const ALIGN = 8;

export type Column = Int32Array | Uint16Array | Uint8Array;
type Kind = 'i32' | 'u16' | 'u8';
export const KINDS: Record<Kind, { bytes: number; make: (b: ArrayBuffer, at: number, n: number) => Column }> =
  {
    i32: { bytes: 4, make: (b, at, n) => new Int32Array(b, at, n) },
    u16: { bytes: 2, make: (b, at, n) => new Uint16Array(b, at, n) },
    u8: { bytes: 1, make: (b, at, n) => new Uint8Array(b, at, n) },
  };

/** Every column, in the order written; the names are those of ReadModelParts. */
export const SECTIONS: readonly (readonly [string, Kind])[] = [
  ['opIssuer', 'u16'],
  ['opHead', 'i32'],
  ['rows', 'u8'],
  ...keySections('operators'),
  ...keySections('identifiers'),
  ['firstSlot', 'i32'],
  ['moreSlots', 'i32'],
  ['head', 'i32'],
  ['nodeEntry', 'i32'],
  ['nodeNext', 'i32'],
];

function keySections(prefix: string): [string, Kind][] {
  return [
    [`${prefix}.start`, 'i32'],
    [`${prefix}.length`, 'i32'],
    [`${prefix}.tags`, 'u16'],
    [`${prefix}.arena`, 'u16'],
  ];
}

/** What the codes of the columns mean: a snapshot written under other lists is not read. */
const CODES = { row: ROW_BYTES, statuses: STATUSES, programmes: PROGRAMMES, roles: ROLES };

export interface Header {
  format: number;
  littleEndian: boolean;
  codes: typeof CODES;
  issuers: string[];
  lastFrom: [string, number][];
  lastChangeAt: number | null;
  free: number;
  lengths: number[];
}

export const pad = (n: number) => (n + ALIGN - 1) & ~(ALIGN - 1);
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const ZEROS = new Uint8Array(ALIGN);

/**
 * The bytes of a snapshot of `p` as pieces to write one after the other: the prelude and header, then each
 * column and its padding. The columns are views of the model's own (valid until its next change), not copies.
 */
export function snapshotPieces(p: ReadModelParts): Uint8Array[] {
  const columns: Column[] = [
    p.opIssuer,
    p.opHead,
    p.rows,
    ...keyColumns(p.operators),
    ...keyColumns(p.identifiers.keys),
    p.identifiers.firstSlot,
    p.identifiers.moreSlots,
    p.identifiers.head,
    p.identifiers.nodeEntry,
    p.identifiers.nodeNext,
  ];
  const header: Header = {
    format: SNAPSHOT_FORMAT,
    littleEndian,
    codes: CODES,
    issuers: p.issuers,
    lastFrom: p.lastFrom,
    lastChangeAt: p.lastChangeAt ?? null,
    free: p.identifiers.free,
    lengths: columns.map((c) => c.byteLength),
  };
  const head = Buffer.from(JSON.stringify(header), 'utf8');
  const first = Buffer.alloc(pad(PRELUDE + head.length));
  MAGIC.copy(first, 0);
  first.writeUInt32LE(head.length, MAGIC.length);
  head.copy(first, PRELUDE);
  const pieces: Uint8Array[] = [first];
  for (const c of columns) {
    pieces.push(new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
    if (pad(c.byteLength) > c.byteLength) pieces.push(ZEROS.subarray(0, pad(c.byteLength) - c.byteLength));
  }
  return pieces;
}

/** The bytes of a snapshot of `p`, in one buffer. */
export function encodeSnapshot(p: ReadModelParts): Buffer {
  return Buffer.concat(snapshotPieces(p));
}

function keyColumns(k: KeyIndexParts): Column[] {
  return [k.start, k.length, k.tags, k.arena];
}

/** The model's parts from a header and its columns, in SECTIONS order. */
export function partsOf(header: Header, columns: readonly Column[]): ReadModelParts {
  const c = columns as [Uint16Array, Int32Array, Uint8Array, ...Column[]];
  const key = (from: number): KeyIndexParts => ({
    start: c[from] as Int32Array,
    length: c[from + 1] as Int32Array,
    tags: c[from + 2] as Uint16Array,
    arena: c[from + 3] as Uint16Array,
  });
  const identifiers: IdentifierIndexParts = {
    keys: key(7),
    firstSlot: c[11] as Int32Array,
    moreSlots: c[12] as Int32Array,
    head: c[13] as Int32Array,
    nodeEntry: c[14] as Int32Array,
    nodeNext: c[15] as Int32Array,
    free: header.free,
  };
  return {
    issuers: header.issuers,
    lastFrom: header.lastFrom,
    lastChangeAt: header.lastChangeAt ?? undefined,
    opIssuer: c[0],
    opHead: c[1],
    rows: c[2],
    operators: key(3),
    identifiers,
  };
}

const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The header of `text`, checked to be one this version writes; throws naming what is wrong. */
export function parseHeader(text: string): Header {
  const fail = (what: string) => new Error(`snapshot: ${what}`);
  let h: unknown;
  try {
    h = JSON.parse(text);
  } catch {
    throw fail('the header is not JSON');
  }
  const o = (typeof h === 'object' && h !== null ? h : {}) as Record<string, unknown>;
  const ok =
    isInt(o.format) &&
    typeof o.littleEndian === 'boolean' &&
    typeof o.codes === 'object' &&
    Array.isArray(o.issuers) &&
    o.issuers.every((i) => typeof i === 'string') &&
    Array.isArray(o.lastFrom) &&
    o.lastFrom.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && isTime(e[1])) &&
    (o.lastChangeAt === null || isTime(o.lastChangeAt)) &&
    isInt(o.free) &&
    Array.isArray(o.lengths) &&
    o.lengths.every((n) => isInt(n) && n >= 0);
  if (!ok) throw fail('a bad header');
  const header = o as unknown as Header;
  if (header.format !== SNAPSHOT_FORMAT) throw fail(`format ${header.format}, not ${SNAPSHOT_FORMAT}`);
  if (header.littleEndian !== littleEndian) throw fail('written on a machine of the other byte order');
  if (JSON.stringify(header.codes) !== JSON.stringify(CODES)) throw fail('written with other codes');
  if (header.lengths.length !== SECTIONS.length) throw fail('not the columns of this format');
  return header;
}
