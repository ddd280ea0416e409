/**
 * The read model's version rows: one record of ROW bytes per accepted version (read-model-parts.ts gives the
 * layout), in one buffer seen as four typed arrays, so that the fields of a row share a cache line or two and a
 * million versions are one allocation, not a million objects. Rows are only added; the read model links them
 * per operator (read-model.ts).
 */
import { effectiveFrom } from '../mra/recognition.ts';
import { type AeoStatus, PROGRAMMES, type Programme } from '../protocol/record.ts';
import { adoptable, codeOf, DAY_MS, grow, maskOfRoles, roomFor, uuidOf } from './columns.ts';
import * as layout from './read-model-parts.ts';
import { STATUSES, type VersionInput } from './read-model-parts.ts';

export class VersionRows {
  protected rows = 0;
  private cap = 1024;
  protected f64 = new Float64Array(this.cap * layout.F64);
  protected i32 = new Int32Array(this.f64.buffer);
  protected u16 = new Uint16Array(this.f64.buffer);
  protected u8 = new Uint8Array(this.f64.buffer);

  get versionCount(): number {
    return this.rows;
  }

  // A version row's fields, read one by one so that answers are written without building objects (answer.ts).
  /** The row of the operator's next lower version, -1 after the lowest. */
  nextRowOf(row: number): number {
    return this.i32[row * layout.I32 + layout.NEXT]!;
  }
  slotOfRow(row: number): number {
    return this.i32[row * layout.I32 + layout.OP]!;
  }
  versionOf(row: number): number {
    return this.f64[row * layout.F64 + layout.VERSION]!;
  }
  statusOf(row: number): AeoStatus {
    return STATUSES[this.statusCodeOf(row)]!;
  }
  /** Index in STATUSES. */
  statusCodeOf(row: number): number {
    return this.u8[row * layout.ROW + layout.STATUS]!;
  }
  programmeOf(row: number): Programme {
    return PROGRAMMES[this.programmeCodeOf(row)]!;
  }
  /** Index in PROGRAMMES. */
  programmeCodeOf(row: number): number {
    return this.u8[row * layout.ROW + layout.PROGRAMME]!;
  }
  /** Bit i set: ROLES[i]. */
  rolesMaskOf(row: number): number {
    return this.u16[row * layout.U16 + layout.ROLES_AT]!;
  }
  /** statusSince as days since 1970-01-01. */
  sinceDayOf(row: number): number {
    return this.i32[row * layout.I32 + layout.SINCE_DAY]!;
  }
  receivedAtOf(row: number): number {
    return this.f64[row * layout.F64 + layout.RECEIVED]!;
  }
  /** Every row's bytes; read at once, the buffer is replaced when it grows. */
  get rowBytes(): Uint8Array {
    return this.u8;
  }
  /** Where a row's record id (16 bytes) starts in rowBytes. */
  recordIdAt(row: number): number {
    return row * layout.ROW + layout.RECORD_ID;
  }
  /** Where a row's digest (32 bytes) starts in rowBytes. */
  digestAt(row: number): number {
    return row * layout.ROW + layout.DIGEST;
  }
  recordIdOf(row: number): string {
    return uuidOf(this.u8, this.recordIdAt(row));
  }
  digestOf(row: number): string {
    return Buffer.from(this.u8.buffer, this.digestAt(row), 32).toString('base64url');
  }

  /** Appends a row for `v` of operator `slot`, unlinked; its row number. */
  protected addRow(slot: number, v: VersionInput): number {
    if (this.rows === this.cap) this.growRows(this.cap * 2);
    const row = this.rows;
    this.rows += 1;
    const sinceMs = Date.parse(`${v.statusSince}T00:00:00Z`);
    this.f64[row * layout.F64 + layout.FROM] = effectiveFrom(v.statusSince, v.receivedAt);
    this.f64[row * layout.F64 + layout.RECEIVED] = v.receivedAt;
    this.f64[row * layout.F64 + layout.VERSION] = v.version;
    this.i32[row * layout.I32 + layout.OP] = slot;
    this.i32[row * layout.I32 + layout.SINCE_DAY] = Math.floor(sinceMs / DAY_MS);
    this.u16[row * layout.U16 + layout.ROLES_AT] = maskOfRoles(v.roles);
    this.u8[row * layout.ROW + layout.STATUS] = codeOf(STATUSES, v.status);
    this.u8[row * layout.ROW + layout.PROGRAMME] = codeOf(PROGRAMMES, v.programme);
    this.u8.set(Buffer.from(v.recordId.replaceAll('-', ''), 'hex'), this.recordIdAt(row));
    this.u8.set(Buffer.from(v.digest, 'base64url').subarray(0, 32), this.digestAt(row));
    return row;
  }

  /**
   * Holds the `count` rows of `bytes` instead of its own. With `adopt`, the buffer behind `bytes` becomes the
   * rows' own when they start it and it has room to grow (adoptable), instead of being copied: only for
   * bytes no one else holds, as those a snapshot was just decoded into.
   */
  protected setRows(bytes: Uint8Array, count: number, adopt: boolean): void {
    const room = roomFor(count);
    const own = adopt ? adoptable(bytes, room * layout.ROW, layout.ROW) : undefined;
    if (own === undefined) {
      this.growRows(room);
      this.u8.set(bytes);
    } else {
      this.cap = own.byteLength / layout.ROW;
      this.f64 = new Float64Array(own);
      this.i32 = new Int32Array(own);
      this.u16 = new Uint16Array(own);
      this.u8 = new Uint8Array(own);
    }
    this.rows = count;
  }

  private growRows(cap: number): void {
    this.cap = cap;
    this.f64 = grow(this.f64, new Float64Array(cap * layout.F64));
    this.i32 = new Int32Array(this.f64.buffer);
    this.u16 = new Uint16Array(this.f64.buffer);
    this.u8 = new Uint8Array(this.f64.buffer);
  }
}
