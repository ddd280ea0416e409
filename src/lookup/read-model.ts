/**
 * The in-memory read model of foreign operators behind the border lookups: every accepted version of every
 * operator, so that "as of T" is answered from memory (docs/lookup.md). A million operators must fit well
 * under a gigabyte, so versions are not JS objects: they are rows of typed-array columns (version-rows.ts),
 * linked per operator from the highest version down; strings that repeat (issuer, status, programme, roles) are
 * small codes.
 */
import { dayString, grow, rolesOfMask, roomFor, withRoom } from './columns.ts';
import { IdentifierIndex } from './identifier-index.ts';
import { KeyIndex } from './key-index.ts';
import * as layout from './read-model-parts.ts';
import {
  checkModel,
  type OperatorVersion,
  partsError,
  type ReadModelParts,
  type VersionInput,
} from './read-model-parts.ts';
import { VersionRows } from './version-rows.ts';

export {
  type OperatorVersion,
  type ReadModelParts,
  ROW_BYTES,
  STATUSES,
  type VersionInput,
} from './read-model-parts.ts';

export class ReadModel extends VersionRows {
  /** Operator slots by (issuer code, aeoId); a slot is the operator's entry in this index. */
  private operators = new KeyIndex();
  private identifiers = new IdentifierIndex();
  private readonly issuers: string[] = [];
  private readonly issuerCode = new Map<string, number>();
  private readonly lastFrom = new Map<string, number>();
  // Per operator slot.
  private opCount = 0;
  private opIssuer = new Uint16Array(1024);
  private opHead = new Int32Array(1024);
  /** Latest receivedAt of every version applied: the freshness a lookup reports. */
  lastChangeAt: number | undefined;

  get operatorCount(): number {
    return this.opCount;
  }

  /** The model's columns trimmed to what is used, as views valid until the next change. */
  parts(): ReadModelParts {
    return {
      issuers: [...this.issuers],
      lastFrom: [...this.lastFrom],
      lastChangeAt: this.lastChangeAt,
      opIssuer: this.opIssuer.subarray(0, this.opCount),
      opHead: this.opHead.subarray(0, this.opCount),
      rows: this.u8.subarray(0, this.rows * layout.ROW),
      operators: this.operators.parts(),
      identifiers: this.identifiers.parts(this.opCount),
    };
  }

  /**
   * The model of `parts`. Throws unless every code and link is in range and each operator's versions
   * strictly decrease along its list, so that no walk can loop or read outside the columns. With `adopt`, the
   * buffers behind the columns become the model's own when they have room (roomFor, decodedRoom), instead of
   * being copied: only for columns no one else holds, as those a snapshot was just decoded into.
   */
  static fromParts(p: ReadModelParts, adopt = false): ReadModel {
    const m = new ReadModel();
    const n = p.opHead.length;
    const rows = p.rows.length / layout.ROW;
    if (!Number.isInteger(rows) || p.opIssuer.length !== n) throw partsError('lengths differ');
    m.operators = KeyIndex.fromParts(p.operators, adopt);
    m.identifiers = IdentifierIndex.fromParts(p.identifiers, n, adopt);
    if (m.operators.size !== n) throw partsError('not one key per operator');
    p.issuers.forEach((issuer, code) => {
      m.issuers.push(issuer);
      m.issuerCode.set(issuer, code);
    });
    for (const [partner, at] of p.lastFrom) m.lastFrom.set(partner, at);
    m.lastChangeAt = p.lastChangeAt;
    m.opCount = n;
    m.opIssuer = withRoom(p.opIssuer, roomFor(n), adopt, Uint16Array);
    m.opHead = withRoom(p.opHead, roomFor(n), adopt, Int32Array);
    m.setRows(p.rows, rows, adopt);
    checkModel(m, p, rows);
    return m;
  }

  /** Adds a version; false when the operator already has it (events are applied at least once). */
  apply(v: VersionInput): boolean {
    const slot = this.slotFor(v.issuer, v.aeoId);
    let prev = -1;
    let at = this.opHead[slot]!;
    // Versions are kept from the highest down; a version arriving out of order is linked in its place.
    while (at >= 0 && this.f64[at * layout.F64 + layout.VERSION]! > v.version) {
      prev = at;
      at = this.i32[at * layout.I32 + layout.NEXT]!;
    }
    if (at >= 0 && this.f64[at * layout.F64 + layout.VERSION] === v.version) return false;
    const row = this.addRow(slot, v);
    this.i32[row * layout.I32 + layout.NEXT] = at;
    if (prev < 0) this.opHead[slot] = row;
    else this.i32[prev * layout.I32 + layout.NEXT] = row;
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

  /** Whether the operator's version is held. */
  holds(issuer: string, aeoId: string, version: number): boolean {
    const slot = this.find(issuer, aeoId);
    if (slot === undefined) return false;
    for (let at = this.opHead[slot]!; at >= 0; at = this.i32[at * layout.I32 + layout.NEXT]!) {
      const held = this.f64[at * layout.F64 + layout.VERSION]!;
      if (held <= version) return held === version;
    }
    return false;
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
    return head < 0 ? undefined : this.f64[head * layout.F64 + layout.VERSION];
  }

  /**
   * The row of the version in effect at `at` (epoch ms): the highest one whose effectiveFrom is not after it;
   * -1 if none.
   */
  rowAt(slot: number, at: number): number {
    for (let row = this.opHead[slot]!; row >= 0; row = this.i32[row * layout.I32 + layout.NEXT]!) {
      if (this.f64[row * layout.F64 + layout.FROM]! <= at) return row;
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
    for (let row = this.opHead[slot]!; row >= 0; row = this.i32[row * layout.I32 + layout.NEXT]!)
      out.push(this.read(row));
    return out;
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
}
