/**
 * Operators by identifier (scheme, value, issuing country), in typed arrays like the rest of the read model
 * (key-index.ts says why). An identifier usually names one operator, held inline; the rare identifier shared
 * by several keeps the others in a small map. Each operator's identifiers are a linked list of nodes, so that
 * replacing them unlinks exactly what it had.
 */
import { KeyIndex } from './key-index.ts';

export class IdentifierIndex {
  private readonly keys = new KeyIndex();
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

function grown(from: Int32Array<ArrayBuffer>, size: number, fill: number): Int32Array<ArrayBuffer> {
  const to = new Int32Array(size).fill(fill);
  to.set(from);
  return to;
}
