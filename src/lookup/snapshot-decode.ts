/**
 * Decoding a snapshot's bytes (snapshot-codec.ts) as they arrive, straight into the columns the read model
 * keeps: no buffer ever holds the whole decoded snapshot, and each byte is copied once, from the decompressor's
 * output into its column. The header is checked before a column is allocated: every column must fit within the
 * decoded length the stored bytes state (itself bounded, snapshot-store.ts) and hold no more entries than a
 * model of the operators and versions its head counts can have (maxEntries), so that a damaged or hostile
 * snapshot cannot make the decoder allocate more than those counts justify.
 */

import { type ModelCounts, maxEntries, type ReadModelParts } from './read-model-parts.ts';
import {
  type Column,
  type Header,
  KINDS,
  MAGIC,
  MAX_HEADER,
  PRELUDE,
  pad,
  parseHeader,
  partsOf,
  SECTIONS,
} from './snapshot-codec.ts';

/** The entries a column of `n` is allocated with (at least `n`): room for the model to grow without a copy. */
export type Capacity = (section: string, n: number) => number;

/** A stretch of the bytes: copied into `into`, or skipped (padding) when it has none. */
interface Piece {
  length: number;
  /** The column it is or pads. */
  column?: string;
  into?: Uint8Array;
  /** Called once the piece is complete. */
  done?: () => void;
}

const fail = (what: string) => new Error(`snapshot: ${what}`);
/** The column whose entries are the identifier entries (one start each). */
const IDENTIFIER_ENTRIES = SECTIONS.findIndex(([name]) => name === 'identifiers.start');

export class SnapshotDecoder {
  private readonly prelude = new Uint8Array(PRELUDE);
  private readonly pieces: Piece[];
  private piece = 0;
  /** Bytes of the current piece received. */
  private filled = 0;
  private header: Header | undefined;
  private readonly columns: Column[] = [];

  /** The decoded length the stored bytes state: no column may end past it. */
  private readonly total: number;
  /** What the snapshot's head says the model holds: no column may have more entries than those allow. */
  private readonly counts: ModelCounts;
  private readonly capacity: Capacity;

  constructor(total: number, counts: ModelCounts, capacity: Capacity = (_, n) => n) {
    this.total = total;
    this.counts = counts;
    this.capacity = capacity;
    this.pieces = [{ length: PRELUDE, into: this.prelude, done: () => this.readPrelude() }];
  }

  /** Takes the next bytes; throws as soon as they cannot be those of a snapshot of this format. */
  push(chunk: Uint8Array): void {
    let at = 0;
    this.advance();
    while (at < chunk.length) {
      const p = this.pieces[this.piece];
      if (p === undefined) throw fail('bytes after the last column');
      const n = Math.min(p.length - this.filled, chunk.length - at);
      p.into?.set(chunk.subarray(at, at + n), this.filled);
      at += n;
      this.filled += n;
      this.advance();
    }
  }

  /** The model's parts, once every byte was pushed; throws when some are missing. */
  finish(): ReadModelParts {
    this.advance();
    if (this.header === undefined)
      throw fail(this.piece === 0 ? 'not a read model snapshot' : 'a bad header');
    const missing = this.pieces[this.piece];
    if (missing !== undefined) throw fail(`column ${missing.column} out of bounds`);
    return partsOf(this.header, this.columns);
  }

  /** Moves past every complete piece, running what follows each. */
  private advance(): void {
    for (let p = this.pieces[this.piece]; p !== undefined && this.filled === p.length; ) {
      this.piece += 1;
      this.filled = 0;
      p.done?.();
      p = this.pieces[this.piece];
    }
  }

  private readPrelude(): void {
    if (!MAGIC.equals(this.prelude.subarray(0, MAGIC.length))) throw fail('not a read model snapshot');
    const headLength = new DataView(this.prelude.buffer).getUint32(MAGIC.length, true);
    if (headLength > MAX_HEADER || PRELUDE + headLength > this.total) throw fail('a bad header');
    const text = new Uint8Array(headLength);
    this.pieces.push({ length: headLength, into: text, done: () => this.readHeader(text) });
    this.pieces.push({ length: pad(PRELUDE + headLength) - PRELUDE - headLength, column: SECTIONS[0]![0] });
  }

  /** Checks the header and the columns' bounds, then allocates every column. */
  private readHeader(text: Uint8Array): void {
    const header = parseHeader(Buffer.from(text.buffer, text.byteOffset, text.length).toString('utf8'));
    const entries = header.lengths[IDENTIFIER_ENTRIES]! / KINDS.i32.bytes;
    const most = maxEntries(this.counts, entries);
    if (most === undefined) throw fail('more entries than its counts allow');
    let at = pad(PRELUDE + text.length);
    for (const [i, [name, kind]] of SECTIONS.entries()) {
      const length = header.lengths[i]!;
      if (length % KINDS[kind].bytes !== 0 || at + length > this.total)
        throw fail(`column ${name} out of bounds`);
      const limit = most[name];
      if (limit === undefined || !(length / KINDS[kind].bytes <= limit))
        throw fail(`column ${name} larger than its counts allow`);
      at += pad(length);
    }
    for (const [i, [name, kind]] of SECTIONS.entries()) {
      const { bytes: unit, make } = KINDS[kind];
      const length = header.lengths[i]!;
      const n = length / unit;
      const column = make(new ArrayBuffer(Math.max(n, this.capacity(name, n)) * unit), 0, n);
      this.columns.push(column);
      this.pieces.push({ length, into: new Uint8Array(column.buffer, 0, length), column: name });
      this.pieces.push({ length: pad(length) - length, column: name });
    }
    this.header = header;
  }
}

/**
 * The parts of a snapshot's bytes, for a model of `counts`; throws, naming what is wrong, when they are not a
 * snapshot of this format.
 */
export function decodeSnapshot(bytes: Uint8Array, counts: ModelCounts): ReadModelParts {
  if (bytes.length < PRELUDE) throw fail('not a read model snapshot');
  const decoder = new SnapshotDecoder(bytes.length, counts);
  decoder.push(bytes);
  return decoder.finish();
}
