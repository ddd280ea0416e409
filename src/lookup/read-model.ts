/**
 * The in-memory read model of foreign operators behind the border lookups: every accepted version of every
 * operator, so that "as of T" is answered from memory (docs/lookup.md). A million operators must fit well
 * under a gigabyte, so versions are not JS objects: they are rows of typed-array columns, linked per operator
 * from the highest version down; strings that repeat (issuer, status, programme, roles) are small codes.
 */
import { effectiveFrom } from '../mra/recognition.ts';
import { type AeoStatus, PROGRAMMES, type Programme, type Role } from '../protocol/record.ts';
import { codeOf, DAY_MS, dayString, grow, maskOfRoles, rolesOfMask, uuidOf } from './columns.ts';
import { IdentifierIndex } from './identifier-index.ts';
import { KeyIndex } from './key-index.ts';

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

/** Bytes of a version row, and where each field sits (in units of the view that reads it). */
const ROW = 88;
const F64 = ROW / 8;
const I32 = ROW / 4;
const U16 = ROW / 2;
const FROM = 0; // f64: effectiveFrom
const RECEIVED = 1; // f64
const VERSION = 2; // f64
const NEXT = 6; // i32, bytes 24–27: the next lower version's row, -1 at the end
const OP = 7; // i32: the operator's slot
const SINCE_DAY = 8; // i32: statusSince in days since 1970-01-01
const ROLES_AT = 18; // u16, bytes 36–37: mask of ROLES
const STATUS = 38; // u8: index in STATUSES
const PROGRAMME = 39; // u8: index in PROGRAMMES
const RECORD_ID = 40; // 16 bytes
const DIGEST = 56; // 32 bytes, to 88

export class ReadModel {
  /** Operator slots by (issuer code, aeoId); a slot is the operator's entry in this index. */
  private readonly operators = new KeyIndex();
  private readonly identifiers = new IdentifierIndex();
  private readonly issuers: string[] = [];
  private readonly issuerCode = new Map<string, number>();
  private readonly lastFrom = new Map<string, number>();
  // Per operator slot.
  private opCount = 0;
  private opIssuer = new Uint16Array(1024);
  private opHead = new Int32Array(1024);
  // Per version row: one record of ROW bytes, so that the fields of a row share a cache line or two.
  private rows = 0;
  private cap = 1024;
  private f64 = new Float64Array(this.cap * F64);
  private i32 = new Int32Array(this.f64.buffer);
  private u16 = new Uint16Array(this.f64.buffer);
  private u8 = new Uint8Array(this.f64.buffer);
  /** Latest receivedAt of every version applied: the freshness a lookup reports. */
  lastChangeAt: number | undefined;

  get operatorCount(): number {
    return this.opCount;
  }

  get versionCount(): number {
    return this.rows;
  }

  /** Adds a version; false when the operator already has it (events are applied at least once). */
  apply(v: VersionInput): boolean {
    const slot = this.slotFor(v.issuer, v.aeoId);
    let prev = -1;
    let at = this.opHead[slot]!;
    // Versions are kept from the highest down; a version arriving out of order is linked in its place.
    while (at >= 0 && this.f64[at * F64 + VERSION]! > v.version) {
      prev = at;
      at = this.i32[at * I32 + NEXT]!;
    }
    if (at >= 0 && this.f64[at * F64 + VERSION] === v.version) return false;
    const row = this.addRow(slot, v);
    this.i32[row * I32 + NEXT] = at;
    if (prev < 0) this.opHead[slot] = row;
    else this.i32[prev * I32 + NEXT] = row;
    if (this.lastChangeAt === undefined || v.receivedAt > this.lastChangeAt) this.lastChangeAt = v.receivedAt;
    return true;
  }

  /** Replaces the identifiers an operator is known by; the issuing country is the issuer's adminId. */
  setIdentifiers(
    issuer: string,
    aeoId: string,
    identifiers: readonly { scheme: string; value: string }[],
  ): void {
    const slot = this.slotFor(issuer, aeoId);
    this.identifiers.set(slot, this.opIssuer[slot]!, identifiers);
  }

  /** Records contact from a partner: any committed batch, accepted or not. */
  sawPartner(partner: string, at: number): void {
    if (at > (this.lastFrom.get(partner) ?? Number.NEGATIVE_INFINITY)) this.lastFrom.set(partner, at);
  }

  /** Operators held per issuer (metrics, at scrape time: one pass over the slots). */
  operatorsByIssuer(): Map<string, number> {
    const counts = new Array<number>(this.issuers.length).fill(0);
    for (let slot = 0; slot < this.opCount; slot += 1) {
      const code = this.opIssuer[slot]!;
      counts[code] = (counts[code] ?? 0) + 1;
    }
    return new Map(this.issuers.map((issuer, code) => [issuer, counts[code] ?? 0]));
  }

  lastReceivedFrom(partner: string): number | undefined {
    return this.lastFrom.get(partner);
  }

  find(issuer: string, aeoId: string): number | undefined {
    const code = this.issuerCode.get(issuer);
    if (code === undefined) return undefined;
    const slot = this.operators.find(code, aeoId);
    return slot < 0 ? undefined : slot;
  }

  /** Operators known by an identifier; in every issuing country the model knows when none is given. */
  findByIdentifier(scheme: string, value: string, country: string | undefined): number[] {
    const found: number[] = [];
    if (country === undefined) {
      for (let code = 0; code < this.issuers.length; code += 1)
        this.identifiers.slots(code, scheme, value, found);
    } else {
      const code = this.issuerCode.get(country);
      if (code !== undefined) this.identifiers.slots(code, scheme, value, found);
    }
    return found;
  }

  issuerOf(slot: number): string {
    return this.issuers[this.opIssuer[slot]!]!;
  }

  aeoIdOf(slot: number): string {
    return this.operators.first(slot);
  }

  /** The highest version held of an operator. */
  latestVersion(slot: number): number | undefined {
    const head = this.opHead[slot]!;
    return head < 0 ? undefined : this.f64[head * F64 + VERSION];
  }

  /** The row of the version in effect at `at` (epoch ms): the highest one whose effectiveFrom is not after it; -1 if none. */
  rowAt(slot: number, at: number): number {
    for (let row = this.opHead[slot]!; row >= 0; row = this.i32[row * I32 + NEXT]!) {
      if (this.f64[row * F64 + FROM]! <= at) return row;
    }
    return -1;
  }

  /** The version in effect at `at` (epoch ms). */
  versionAt(slot: number, at: number): OperatorVersion | undefined {
    const row = this.rowAt(slot, at);
    return row < 0 ? undefined : this.read(row);
  }

  /** Every version of an operator, highest first. */
  history(slot: number): OperatorVersion[] {
    const out: OperatorVersion[] = [];
    for (let row = this.opHead[slot]!; row >= 0; row = this.i32[row * I32 + NEXT]!) out.push(this.read(row));
    return out;
  }

  // A version row's fields, read one by one so that answers are written without building objects (answer.ts).
  slotOfRow(row: number): number {
    return this.i32[row * I32 + OP]!;
  }
  versionOf(row: number): number {
    return this.f64[row * F64 + VERSION]!;
  }
  statusOf(row: number): AeoStatus {
    return STATUSES[this.statusCodeOf(row)]!;
  }
  /** Index in STATUSES. */
  statusCodeOf(row: number): number {
    return this.u8[row * ROW + STATUS]!;
  }
  programmeOf(row: number): Programme {
    return PROGRAMMES[this.programmeCodeOf(row)]!;
  }
  /** Index in PROGRAMMES. */
  programmeCodeOf(row: number): number {
    return this.u8[row * ROW + PROGRAMME]!;
  }
  /** Bit i set: ROLES[i]. */
  rolesMaskOf(row: number): number {
    return this.u16[row * U16 + ROLES_AT]!;
  }
  /** statusSince as days since 1970-01-01. */
  sinceDayOf(row: number): number {
    return this.i32[row * I32 + SINCE_DAY]!;
  }
  receivedAtOf(row: number): number {
    return this.f64[row * F64 + RECEIVED]!;
  }
  /** Every row's bytes; read at once, the buffer is replaced when it grows. */
  get rowBytes(): Uint8Array {
    return this.u8;
  }
  /** Where a row's record id (16 bytes) starts in rowBytes. */
  recordIdAt(row: number): number {
    return row * ROW + RECORD_ID;
  }
  /** Where a row's digest (32 bytes) starts in rowBytes. */
  digestAt(row: number): number {
    return row * ROW + DIGEST;
  }
  recordIdOf(row: number): string {
    return uuidOf(this.u8, this.recordIdAt(row));
  }
  digestOf(row: number): string {
    return Buffer.from(this.u8.buffer, this.digestAt(row), 32).toString('base64url');
  }

  private read(row: number): OperatorVersion {
    const slot = this.slotOfRow(row);
    return {
      issuer: this.issuerOf(slot),
      aeoId: this.aeoIdOf(slot),
      version: this.versionOf(row),
      recordId: this.recordIdOf(row),
      digest: this.digestOf(row),
      status: this.statusOf(row),
      statusSince: dayString(this.sinceDayOf(row)),
      programme: this.programmeOf(row),
      roles: rolesOfMask(this.rolesMaskOf(row)),
      receivedAt: this.receivedAtOf(row),
    };
  }

  private slotFor(issuer: string, aeoId: string): number {
    let code = this.issuerCode.get(issuer);
    if (code === undefined) {
      code = this.issuers.push(issuer) - 1;
      this.issuerCode.set(issuer, code);
    }
    const slot = this.operators.add(code, aeoId);
    if (slot < this.opCount) return slot;
    if (slot === this.opHead.length) {
      this.opHead = grow(this.opHead, new Int32Array(slot * 2));
      this.opIssuer = grow(this.opIssuer, new Uint16Array(slot * 2));
    }
    this.opCount += 1;
    this.opIssuer[slot] = code;
    this.opHead[slot] = -1;
    return slot;
  }

  private addRow(slot: number, v: VersionInput): number {
    if (this.rows === this.cap) this.growRows(this.cap * 2);
    const row = this.rows;
    this.rows += 1;
    const sinceMs = Date.parse(`${v.statusSince}T00:00:00Z`);
    this.f64[row * F64 + FROM] = effectiveFrom(v.statusSince, v.receivedAt);
    this.f64[row * F64 + RECEIVED] = v.receivedAt;
    this.f64[row * F64 + VERSION] = v.version;
    this.i32[row * I32 + OP] = slot;
    this.i32[row * I32 + SINCE_DAY] = Math.floor(sinceMs / DAY_MS);
    this.u16[row * U16 + ROLES_AT] = maskOfRoles(v.roles);
    this.u8[row * ROW + STATUS] = codeOf(STATUSES, v.status);
    this.u8[row * ROW + PROGRAMME] = codeOf(PROGRAMMES, v.programme);
    this.u8.set(Buffer.from(v.recordId.replaceAll('-', ''), 'hex'), this.recordIdAt(row));
    this.u8.set(Buffer.from(v.digest, 'base64url').subarray(0, 32), this.digestAt(row));
    return row;
  }

  private growRows(cap: number): void {
    this.cap = cap;
    this.f64 = grow(this.f64, new Float64Array(cap * F64));
    this.i32 = new Int32Array(this.f64.buffer);
    this.u16 = new Uint16Array(this.f64.buffer);
    this.u8 = new Uint8Array(this.f64.buffer);
  }
}
