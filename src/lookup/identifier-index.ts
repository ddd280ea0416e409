/**
 * Operators by identifier (scheme, value, issuing country), in typed arrays like the rest of the read model
 * (key-index.ts says why). An identifier usually names one operator, held inline; the rare identifier shared
 * by several keeps the others in a small map. Each operator's identifiers are a linked list of nodes, so that
 * replacing them unlinks exactly what it had.
 */
import { roomFor, withRoom } from './columns.ts';
import { KeyIndex, type KeyIndexParts } from './key-index.ts';

/** The index as a snapshot holds it (snapshot-codec.ts). */
export interface IdentifierIndexParts {
  keys: KeyIndexParts;
  /** Per identifier entry. */
  firstSlot: Int32Array;
  /** The other operators of shared identifiers: entry, n, then n slots; again for the next entry. */
  moreSlots: Int32Array;
  /** Per operator slot. */
  head: Int32Array;
  nodeEntry: Int32Array;
  nodeNext: Int32Array;
  /** The first free node, -1 for none. */
  free: number;
}

export class IdentifierIndex {
  private keys = new KeyIndex();
  /** Per identifier entry: its first operator slot, -1 for none. */
  private firstSlot = new Int32Array(1024).fill(-1);
  /** Per identifier entry shared by several operators: the others. */
  private readonly moreSlots = new Map<number, number[]>();
  /** Per operator slot: its first node, -1 for none. */
  private head = new Int32Array(1024).fill(-1);
  // Nodes: an identifier entry and the next node of the same operator.
  private nodeEntry = new Int32Array(1024);
  private nodeNext = new Int32Array(1024);
  private nodes = 0;
  private free = -1;

  /** The index's arrays, trimmed to `operators` slots; views valid until the next change. */
  parts(operators: number): IdentifierIndexParts {
    const more: number[] = [];
    for (const [entry, slots] of this.moreSlots) more.push(entry, slots.length, ...slots);
    const head = new Int32Array(operators).fill(-1);
    head.set(this.head.subarray(0, Math.min(operators, this.head.length)));
    return {
      keys: this.keys.parts(),
      firstSlot: this.firstSlot.subarray(0, this.keys.size),
      moreSlots: Int32Array.from(more),
      head,
      nodeEntry: this.nodeEntry.subarray(0, this.nodes),
      nodeNext: this.nodeNext.subarray(0, this.nodes),
      free: this.free,
    };
  }

  /**
   * The index of `parts`, for `operators` operator slots. Throws unless every reference is in range and every
   * node is on at most one list (an operator's or the free one), so that no walk can loop. With `adopt`, the
   * buffers behind the parts become the index's own when they have room (columns.withRoom).
   */
  static fromParts(parts: IdentifierIndexParts, operators: number, adopt = false): IdentifierIndex {
    const index = new IdentifierIndex();
    const keys = KeyIndex.fromParts(parts.keys, adopt);
    const entries = keys.size;
    const nodes = parts.nodeEntry.length;
    const fail = (what: string) => new Error(`identifier index: ${what}`);
    if (parts.firstSlot.length !== entries || parts.nodeNext.length !== nodes) throw fail('lengths differ');
    if (parts.head.length !== operators) throw fail('not one head per operator');
    const slotOk = (slot: number) => slot >= -1 && slot < operators;
    for (const slot of parts.firstSlot) if (!slotOk(slot)) throw fail('an operator out of range');
    for (let i = 0; i < nodes; i += 1) {
      const entry = parts.nodeEntry[i]!;
      if (entry < 0 || entry >= entries) throw fail('a node out of range');
    }
    const seen = new Uint8Array(nodes);
    const walk = (first: number) => {
      for (let node = first; node >= 0; node = parts.nodeNext[node]!) {
        if (node >= nodes || seen[node] === 1) throw fail('a broken list');
        seen[node] = 1;
      }
    };
    for (const first of parts.head) walk(first);
    walk(parts.free);
    const more = parts.moreSlots;
    for (let at = 0; at < more.length; ) {
      const entry = more[at]!;
      const n = more[at + 1] ?? -1;
      if (entry < 0 || entry >= entries || n < 1 || at + 2 + n > more.length)
        throw fail('broken shared entries');
      const slots = Array.from(more.subarray(at + 2, at + 2 + n));
      if (!slots.every((s) => s >= 0 && s < operators)) throw fail('an operator out of range');
      index.moreSlots.set(entry, slots);
      at += 2 + n;
    }
    index.keys = keys;
    // Entries and slots past those held have no operator and no node: -1 (a new column is zeros).
    index.firstSlot = withRoom(parts.firstSlot, roomFor(entries), adopt, Int32Array).fill(-1, entries);
    index.head = withRoom(parts.head, roomFor(operators), adopt, Int32Array).fill(-1, operators);
    index.nodeEntry = withRoom(parts.nodeEntry, roomFor(nodes), adopt, Int32Array);
    index.nodeNext = withRoom(parts.nodeNext, roomFor(nodes), adopt, Int32Array);
    index.nodes = nodes;
    index.free = parts.free;
    return index;
  }

  /** Replaces the identifiers operator `slot` is known by, in issuing country `country` (an issuer code). */
  set(slot: number, country: number, identifiers: readonly { scheme: string; value: string }[]): void {
    if (slot >= this.head.length) this.head = grown(this.head, Math.max(slot + 1, this.head.length * 2), -1);
    for (let node = this.head[slot]!; node >= 0; ) {
      const next = this.nodeNext[node]!;
      this.unlink(this.nodeEntry[node]!, slot);
      this.nodeNext[node] = this.free;
      this.free = node;
      node = next;
    }
    this.head[slot] = -1;
    for (const { scheme, value } of identifiers) {
      const entry = this.keys.add(country, scheme, value);
      if (entry >= this.firstSlot.length) {
        this.firstSlot = grown(this.firstSlot, this.firstSlot.length * 2, -1);
      }
      if (!this.link(entry, slot)) continue;
      const node = this.newNode();
      this.nodeEntry[node] = entry;
      this.nodeNext[node] = this.head[slot]!;
      this.head[slot] = node;
    }
  }

  /** Adds to `into` the operators known by (scheme, value) in issuing country `country`. */
  slots(country: number, scheme: string, value: string, into: number[]): void {
    const entry = this.keys.find(country, scheme, value);
    if (entry < 0) return;
    const first = this.firstSlot[entry]!;
    if (first >= 0) into.push(first);
    const more = this.moreSlots.get(entry);
    if (more !== undefined) into.push(...more);
  }

  /** Adds slot to the entry's operators; false when it is already there (an identifier listed twice). */
  private link(entry: number, slot: number): boolean {
    const first = this.firstSlot[entry]!;
    if (first === slot) return false;
    if (first < 0) {
      this.firstSlot[entry] = slot;
      return true;
    }
    const more = this.moreSlots.get(entry) ?? [];
    if (more.includes(slot)) return false;
    more.push(slot);
    this.moreSlots.set(entry, more);
    return true;
  }

  private unlink(entry: number, slot: number): void {
    const more = this.moreSlots.get(entry);
    if (this.firstSlot[entry] === slot) {
      this.firstSlot[entry] = more?.shift() ?? -1;
    } else if (more !== undefined) {
      const at = more.indexOf(slot);
      if (at >= 0) more.splice(at, 1);
    }
    if (more !== undefined && more.length === 0) this.moreSlots.delete(entry);
  }

  private newNode(): number {
    if (this.free >= 0) {
      const node = this.free;
      this.free = this.nodeNext[node]!;
      return node;
    }
    if (this.nodes === this.nodeEntry.length) {
      this.nodeEntry = grown(this.nodeEntry, this.nodes * 2, 0);
      this.nodeNext = grown(this.nodeNext, this.nodes * 2, 0);
    }
    const node = this.nodes;
    this.nodes += 1;
    return node;
  }
}

function grown(from: Int32Array, size: number, fill: number): Int32Array<ArrayBuffer> {
  const to = new Int32Array(size).fill(fill);
  to.set(from);
  return to;
}
