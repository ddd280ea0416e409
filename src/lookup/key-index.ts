/**
 * A map from keys to dense entry ids (0, 1, 2…) held in typed arrays, not in JS objects: a million operators as
 * a Map of strings would be millions of heap objects, and every full garbage collection would walk them all
 * (hundreds of milliseconds at a million, stalling every lookup). A key is a small tag (the issuer's code) and
 * one or two strings; their UTF-16 code units are kept in one arena, found again by open addressing on a
 * 32-bit FNV-1a hash, seeded per process. Strings never hold U+0000 (the separator; every key is validated
 * before it gets here), and b is never empty when given. Entries are never removed: an operator stays known,
 * and an identifier no longer used keeps its entry with no operator behind it.
 */

import { randomInt } from 'node:crypto';
import { arenaRoomFor, grow, roomFor, withRoom } from './columns.ts';

const EMPTY = -1;

/** An index's entries as a snapshot holds them (snapshot-codec.ts): hashes and the table are rebuilt on load. */
export interface KeyIndexParts {
  /** Per entry: where its key starts in the arena, its length in code units, its tag. */
  start: Int32Array;
  length: Int32Array;
  tags: Uint16Array;
  /** Every key's code units, back to back. */
  arena: Uint16Array;
}
const SEPARATOR = 0;
/** Per process, so that keys chosen to collide (a partner's crafted aeoIds) cannot be prepared in advance. */
const SEED = randomInt(0x7fffffff);

export class KeyIndex {
  private table = new Int32Array(1024).fill(EMPTY);
  private count = 0;
  private start = new Int32Array(1024);
  private length = new Int32Array(1024);
  private hashes = new Int32Array(1024);
  private tags = new Uint16Array(1024);
  private arena = new Uint16Array(16 * 1024);
  private used = 0;

  get size(): number {
    return this.count;
  }

  /** The entries, as views of the index's own arrays (valid until the next add). */
  parts(): KeyIndexParts {
    return {
      start: this.start.subarray(0, this.count),
      length: this.length.subarray(0, this.count),
      tags: this.tags.subarray(0, this.count),
      arena: this.arena.subarray(0, this.used),
    };
  }

  /**
   * An index of the entries of `parts`, with their ids. Hashes are computed again with this process's seed
   * (a seed written down would let keys be crafted to collide). Throws when an entry points outside the arena.
   * With `adopt`, the buffers behind the parts become the index's own when they have room (columns.withRoom).
   */
  static fromParts(parts: KeyIndexParts, adopt = false): KeyIndex {
    const index = new KeyIndex();
    const count = parts.start.length;
    if (parts.length.length !== count || parts.tags.length !== count)
      throw new Error('key index: lengths differ');
    const used = parts.arena.length;
    const room = roomFor(count);
    index.start = withRoom(parts.start, room, adopt, Int32Array);
    index.length = withRoom(parts.length, room, adopt, Int32Array);
    index.tags = withRoom(parts.tags, room, adopt, Uint16Array);
    index.arena = withRoom(parts.arena, arenaRoomFor(used), adopt, Uint16Array);
    index.hashes = new Int32Array(room);
    index.used = used;
    index.count = count;
    const { start, length, tags, arena, hashes } = index;
    for (let id = 0; id < count; id += 1) {
      const from = start[id]!;
      const n = length[id]!;
      if (from < 0 || n < 0 || from + n > used) throw new Error('key index: an entry outside the arena');
      hashes[id] = hashOfUnits(tags[id]!, arena, from, from + n);
    }
    let size = 1024;
    while ((count + 1) * 2 > size) size *= 2;
    index.rehash(size);
    return index;
  }

  /** The entry of (tag, a, b); -1 when unknown. */
  find(tag: number, a: string, b = ''): number {
    const hash = hashOf(tag, a, b);
    const mask = this.table.length - 1;
    for (let at = hash & mask; ; at = (at + 1) & mask) {
      const id = this.table[at]!;
      if (id === EMPTY) return -1;
      if (this.hashes[id] === hash && this.matches(id, tag, a, b)) return id;
    }
  }

  /** The entry of (tag, a, b), added when new. */
  add(tag: number, a: string, b = ''): number {
    const known = this.find(tag, a, b);
    if (known >= 0) return known;
    if ((this.count + 1) * 2 > this.table.length) this.rehash(this.table.length * 2);
    const id = this.count;
    if (id === this.start.length) this.growEntries(id * 2);
    const n = b === '' ? a.length : a.length + 1 + b.length;
    if (this.used + n > this.arena.length) {
      const next = new Uint16Array(Math.max(this.arena.length * 2, this.used + n));
      next.set(this.arena.subarray(0, this.used));
      this.arena = next;
    }
    let p = this.used;
    for (let i = 0; i < a.length; i += 1) this.arena[p++] = a.charCodeAt(i);
    if (b !== '') {
      this.arena[p++] = SEPARATOR;
      for (let i = 0; i < b.length; i += 1) this.arena[p++] = b.charCodeAt(i);
    }
    this.start[id] = this.used;
    this.length[id] = n;
    this.used = p;
    this.hashes[id] = hashOf(tag, a, b);
    this.tags[id] = tag;
    this.count += 1;
    this.place(id);
    return id;
  }

  /** The first string of an entry's key (for two-string keys, the part before the separator). */
  first(id: number): string {
    const from = this.start[id]!;
    const to = from + this.length[id]!;
    let end = from;
    while (end < to && this.arena[end] !== SEPARATOR) end += 1;
    let text = '';
    for (let i = from; i < end; i += 1) text += String.fromCharCode(this.arena[i]!);
    return text;
  }

  private matches(id: number, tag: number, a: string, b: string): boolean {
    if (this.tags[id] !== tag) return false;
    const n = b === '' ? a.length : a.length + 1 + b.length;
    if (this.length[id] !== n) return false;
    let p = this.start[id]!;
    for (let i = 0; i < a.length; i += 1) if (this.arena[p++] !== a.charCodeAt(i)) return false;
    if (b === '') return true;
    if (this.arena[p++] !== SEPARATOR) return false;
    for (let i = 0; i < b.length; i += 1) if (this.arena[p++] !== b.charCodeAt(i)) return false;
    return true;
  }

  private place(id: number): void {
    const mask = this.table.length - 1;
    let at = this.hashes[id]! & mask;
    while (this.table[at] !== EMPTY) at = (at + 1) & mask;
    this.table[at] = id;
  }

  private rehash(size: number): void {
    this.table = new Int32Array(size).fill(EMPTY);
    for (let id = 0; id < this.count; id += 1) this.place(id);
  }

  private growEntries(size: number): void {
    this.start = grow(this.start, new Int32Array(size));
    this.length = grow(this.length, new Int32Array(size));
    this.hashes = grow(this.hashes, new Int32Array(size));
    this.tags = grow(this.tags, new Uint16Array(size));
  }
}

/** hashOf of a key as the arena holds it (a, the separator and b back to back): the same value. */
function hashOfUnits(tag: number, arena: Uint16Array, from: number, to: number): number {
  let h = Math.imul(0x811c9dc5 ^ SEED ^ tag, 0x01000193);
  for (let i = from; i < to; i += 1) h = Math.imul(h ^ arena[i]!, 0x01000193);
  return h & 0x7fffffff;
}

/** 32-bit FNV-1a over the tag, the code units of a, a separator and those of b. */
function hashOf(tag: number, a: string, b: string): number {
  let h = Math.imul(0x811c9dc5 ^ SEED ^ tag, 0x01000193);
  for (let i = 0; i < a.length; i += 1) h = Math.imul(h ^ a.charCodeAt(i), 0x01000193);
  if (b !== '') {
    h = Math.imul(h ^ SEPARATOR, 0x01000193);
    for (let i = 0; i < b.length; i += 1) h = Math.imul(h ^ b.charCodeAt(i), 0x01000193);
  }
  return h & 0x7fffffff;
}
