/**
 * The read model as bytes: its typed-array columns back to back, after a short JSON header that names them.
 * Writing and reading are copies of memory, so a million operators start in seconds instead of the minute a
 * load from PostgreSQL takes. The bytes are only ever read after their SHA-256 matched (snapshot-store.ts), yet
 * every length, code and link is checked again here and in ReadModel.fromParts: a snapshot is input.
 */
import { PROGRAMMES, ROLES } from '../protocol/record.ts';
import type { IdentifierIndexParts } from './identifier-index.ts';
import type { KeyIndexParts } from './key-index.ts';
import { type ReadModelParts, ROW_BYTES, STATUSES } from './read-model-parts.ts';

/** Raised whenever the layout of the bytes or of the model changes: an older snapshot is then not read. */
export const SNAPSHOT_FORMAT = 2;
const MAGIC = Buffer.from('MRA-RM\r\n', 'latin1');
const ALIGN = 8;
const MAX_HEADER = 1024 * 1024;

type Column = Int32Array | Uint16Array | Uint8Array;
type Kind = 'i32' | 'u16' | 'u8';
const KINDS: Record<Kind, { bytes: number; make: (b: ArrayBuffer, at: number, n: number) => Column }> = {
  i32: { bytes: 4, make: (b, at, n) => new Int32Array(b, at, n) },
  u16: { bytes: 2, make: (b, at, n) => new Uint16Array(b, at, n) },
  u8: { bytes: 1, make: (b, at, n) => new Uint8Array(b, at, n) },
};

/** Every column, in the order written. */
const SECTIONS: readonly (readonly [string, Kind])[] = [
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

interface Header {
  format: number;
  littleEndian: boolean;
  codes: typeof CODES;
  issuers: string[];
  lastFrom: [string, number][];
  lastChangeAt: number | null;
  free: number;
  lengths: number[];
}

const pad = (n: number) => (n + ALIGN - 1) & ~(ALIGN - 1);
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function encodeSnapshot(p: ReadModelParts): Buffer {
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
  let size = pad(MAGIC.length + 8 + head.length);
  for (const c of columns) size += pad(c.byteLength);
  // Not from the shared pool: the columns are read back as aligned views of this one buffer.
  const out = Buffer.allocUnsafeSlow(size).fill(0);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(head.length, MAGIC.length);
  head.copy(out, MAGIC.length + 8);
  let at = pad(MAGIC.length + 8 + head.length);
  for (const c of columns) {
    out.set(new Uint8Array(c.buffer, c.byteOffset, c.byteLength), at);
    at += pad(c.byteLength);
  }
  return out;
}

function keyColumns(k: KeyIndexParts): Column[] {
  return [k.start, k.length, k.tags, k.arena];
}

/** The parts of a snapshot's bytes; throws, naming what is wrong, when they are not a snapshot of this format. */
export function decodeSnapshot(bytes: Uint8Array): ReadModelParts {
  const fail = (what: string) => new Error(`snapshot: ${what}`);
  if (bytes.length < MAGIC.length + 8 || !MAGIC.equals(bytes.subarray(0, MAGIC.length)))
    throw fail('not a read model snapshot');
  // An aligned copy when the bytes are not 8-aligned in their buffer (a driver's result usually is not).
  const data = bytes.byteOffset % ALIGN === 0 ? bytes : Uint8Array.from(bytes);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const headLength = view.getUint32(MAGIC.length, true);
  if (headLength > MAX_HEADER || MAGIC.length + 8 + headLength > data.length) throw fail('a bad header');
  const header = parseHeader(
    Buffer.from(data.buffer, data.byteOffset + MAGIC.length + 8, headLength).toString('utf8'),
  );
  if (header.format !== SNAPSHOT_FORMAT) throw fail(`format ${header.format}, not ${SNAPSHOT_FORMAT}`);
  if (header.littleEndian !== littleEndian) throw fail('written on a machine of the other byte order');
  if (JSON.stringify(header.codes) !== JSON.stringify(CODES)) throw fail('written with other codes');
  if (header.lengths.length !== SECTIONS.length) throw fail('not the columns of this format');
  let at = pad(MAGIC.length + 8 + headLength);
  const columns: Column[] = [];
  for (const [i, [name, kind]] of SECTIONS.entries()) {
    const length = header.lengths[i]!;
    const { bytes: unit, make } = KINDS[kind];
    if (length % unit !== 0 || at + length > data.length) throw fail(`column ${name} out of bounds`);
    columns.push(make(data.buffer as ArrayBuffer, data.byteOffset + at, length / unit));
    at += pad(length);
  }
  if (at !== data.length) throw fail('bytes after the last column');
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

function parseHeader(text: string): Header {
  let h: unknown;
  try {
    h = JSON.parse(text);
  } catch {
    throw new Error('snapshot: the header is not JSON');
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
  if (!ok) throw new Error('snapshot: a bad header');
  return o as unknown as Header;
}
