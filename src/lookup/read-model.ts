/**
 * The in-memory read model of foreign operators behind the border lookups: every accepted version of every
 * operator, so that "as of T" is answered from memory (docs/lookup.md). A million operators must fit well
 * under a gigabyte, so versions are not JS objects: they are rows of typed-array columns, linked per operator
 * from the highest version down; strings that repeat (issuer, status, programme, roles) are small codes.
 */
import { PROGRAMMES, type Programme, ROLES, type Role } from '../config/types.ts';
import type { AeoStatus } from '../inbound/record.ts';

export const STATUSES: readonly AeoStatus[] = ['certified', 'suspended', 'revoked', 'withdrawn'];

const DAY_MS = 86_400_000;

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

/**
 * When a version starts to hold: not before its statusSince (the issuing administration's decision date, UTC
 * midnight) and not before the gateway received it, so that an as-of answer is what the gateway would have
 * said at that moment and a back-dated record never rewrites the past (docs/lookup.md).
 */
export function effectiveFrom(statusSince: string, receivedAt: number): number {
  return Math.max(Date.parse(`${statusSince}T00:00:00Z`), receivedAt);
}

export class ReadModel {
  private readonly slotOf = new Map<string, number>();
  private readonly identifierIndex = new Map<string, number | number[]>();
  private readonly issuers: string[] = [];
  private readonly issuerCode = new Map<string, number>();
  private readonly lastFrom = new Map<string, number>();
  // Per operator slot.
  private opCount = 0;
  private opIssuer = new Uint16Array(1024);
  private opHead = new Int32Array(1024);
  private readonly opAeoId: string[] = [];
  /** The identifier keys of each operator, joined by \u0001: one string rather than an array per operator. */
  private readonly opIdentifiers: string[] = [];
  // Per version row.
  private rows = 0;
  private cap = 1024;
  private vOp = new Int32Array(this.cap);
  private vNext = new Int32Array(this.cap);
  private vVersion = new Float64Array(this.cap);
  private vReceived = new Float64Array(this.cap);
  private vFrom = new Float64Array(this.cap);
  private vSinceDay = new Int32Array(this.cap);
  private vStatus = new Uint8Array(this.cap);
  private vProgramme = new Uint8Array(this.cap);
  private vRoles = new Uint16Array(this.cap);
  private vRecordId = new Uint8Array(this.cap * 16);
  private vDigest = new Uint8Array(this.cap * 32);
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
    while (at >= 0 && this.vVersion[at]! > v.version) {
      prev = at;
      at = this.vNext[at]!;
    }
    if (at >= 0 && this.vVersion[at] === v.version) return false;
    const row = this.addRow(slot, v);
    this.vNext[row] = at;
    if (prev < 0) this.opHead[slot] = row;
    else this.vNext[prev] = row;
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
    for (const key of splitKeys(this.opIdentifiers[slot]!)) this.unindex(key, slot);
    const keys = [...new Set(identifiers.map((i) => identifierKey(i.scheme, i.value, issuer)))];
    for (const key of keys) this.index(key, slot);
    this.opIdentifiers[slot] = keys.join('\u0001');
  }

  /** Records contact from a partner: any committed batch, accepted or not. */
  sawPartner(partner: string, at: number): void {
    if (at > (this.lastFrom.get(partner) ?? Number.NEGATIVE_INFINITY)) this.lastFrom.set(partner, at);
  }

  lastReceivedFrom(partner: string): number | undefined {
    return this.lastFrom.get(partner);
  }

  find(issuer: string, aeoId: string): number | undefined {
    return this.slotOf.get(operatorKey(issuer, aeoId));
  }

  /** Operators known by an identifier; in every issuing country the model knows when none is given. */
  findByIdentifier(scheme: string, value: string, country: string | undefined): number[] {
    const countries = country === undefined ? this.issuers : [country];
    const found: number[] = [];
    for (const c of countries) {
      const hit = this.identifierIndex.get(identifierKey(scheme, value, c));
      if (hit !== undefined) found.push(...(typeof hit === 'number' ? [hit] : hit));
    }
    return found;
  }

  issuerOf(slot: number): string {
    return this.issuers[this.opIssuer[slot]!]!;
  }

  aeoIdOf(slot: number): string {
    return this.opAeoId[slot]!;
  }

  /** The highest version held of an operator. */
  latestVersion(slot: number): number | undefined {
    const head = this.opHead[slot]!;
    return head < 0 ? undefined : this.vVersion[head];
  }

  /** The version in effect at `at` (epoch ms): the highest one whose effectiveFrom is not after it. */
  versionAt(slot: number, at: number): OperatorVersion | undefined {
    for (let row = this.opHead[slot]!; row >= 0; row = this.vNext[row]!) {
      if (this.vFrom[row]! <= at) return this.read(row);
    }
    return undefined;
  }

  /** Every version of an operator, highest first. */
  history(slot: number): OperatorVersion[] {
    const out: OperatorVersion[] = [];
    for (let row = this.opHead[slot]!; row >= 0; row = this.vNext[row]!) out.push(this.read(row));
    return out;
  }

  private read(row: number): OperatorVersion {
    const slot = this.vOp[row]!;
    const mask = this.vRoles[row]!;
    return {
      issuer: this.issuerOf(slot),
      aeoId: this.opAeoId[slot]!,
      version: this.vVersion[row]!,
      recordId: uuidOf(this.vRecordId.subarray(row * 16, row * 16 + 16)),
      digest: Buffer.from(this.vDigest.buffer, this.vDigest.byteOffset + row * 32, 32).toString('base64url'),
      status: STATUSES[this.vStatus[row]!]!,
      statusSince: new Date(this.vSinceDay[row]! * DAY_MS).toISOString().slice(0, 10),
      programme: PROGRAMMES[this.vProgramme[row]!]!,
      roles: ROLES.filter((_, i) => (mask & (1 << i)) !== 0),
      receivedAt: this.vReceived[row]!,
    };
  }

  private slotFor(issuer: string, aeoId: string): number {
    const key = operatorKey(issuer, aeoId);
    const known = this.slotOf.get(key);
    if (known !== undefined) return known;
    let code = this.issuerCode.get(issuer);
    if (code === undefined) {
      code = this.issuers.push(issuer) - 1;
      this.issuerCode.set(issuer, code);
    }
    const slot = this.opCount;
    if (slot === this.opHead.length) {
      this.opHead = grow(this.opHead, new Int32Array(slot * 2));
      this.opIssuer = grow(this.opIssuer, new Uint16Array(slot * 2));
    }
    this.opCount += 1;
    this.opIssuer[slot] = code;
    this.opHead[slot] = -1;
    this.opAeoId.push(aeoId);
    this.opIdentifiers.push('');
    this.slotOf.set(key, slot);
    return slot;
  }

  private addRow(slot: number, v: VersionInput): number {
    if (this.rows === this.cap) this.growRows(this.cap * 2);
    const row = this.rows;
    this.rows += 1;
    const sinceMs = Date.parse(`${v.statusSince}T00:00:00Z`);
    this.vOp[row] = slot;
    this.vVersion[row] = v.version;
    this.vReceived[row] = v.receivedAt;
    this.vFrom[row] = effectiveFrom(v.statusSince, v.receivedAt);
    this.vSinceDay[row] = Math.floor(sinceMs / DAY_MS);
    this.vStatus[row] = codeOf(STATUSES, v.status);
    this.vProgramme[row] = codeOf(PROGRAMMES, v.programme);
    let mask = 0;
    for (const r of v.roles) mask |= 1 << codeOf(ROLES, r);
    this.vRoles[row] = mask;
    this.vRecordId.set(Buffer.from(v.recordId.replaceAll('-', ''), 'hex'), row * 16);
    this.vDigest.set(Buffer.from(v.digest, 'base64url').subarray(0, 32), row * 32);
    return row;
  }

  private growRows(cap: number): void {
    this.cap = cap;
    this.vOp = grow(this.vOp, new Int32Array(cap));
    this.vNext = grow(this.vNext, new Int32Array(cap));
    this.vVersion = grow(this.vVersion, new Float64Array(cap));
    this.vReceived = grow(this.vReceived, new Float64Array(cap));
    this.vFrom = grow(this.vFrom, new Float64Array(cap));
    this.vSinceDay = grow(this.vSinceDay, new Int32Array(cap));
    this.vStatus = grow(this.vStatus, new Uint8Array(cap));
    this.vProgramme = grow(this.vProgramme, new Uint8Array(cap));
    this.vRoles = grow(this.vRoles, new Uint16Array(cap));
    this.vRecordId = grow(this.vRecordId, new Uint8Array(cap * 16));
    this.vDigest = grow(this.vDigest, new Uint8Array(cap * 32));
  }

  private index(key: string, slot: number): void {
    const hit = this.identifierIndex.get(key);
    if (hit === undefined) this.identifierIndex.set(key, slot);
    else if (typeof hit === 'number') {
      if (hit !== slot) this.identifierIndex.set(key, [hit, slot]);
    } else if (!hit.includes(slot)) hit.push(slot);
  }

  private unindex(key: string, slot: number): void {
    const hit = this.identifierIndex.get(key);
    if (hit === slot) this.identifierIndex.delete(key);
    else if (Array.isArray(hit)) {
      const rest = hit.filter((s) => s !== slot);
      this.identifierIndex.set(key, rest.length === 1 ? rest[0]! : rest);
    }
  }
}

function operatorKey(issuer: string, aeoId: string): string {
  return `${issuer}\u0000${aeoId}`;
}

function identifierKey(scheme: string, value: string, country: string): string {
  return `${scheme}\u0000${value}\u0000${country}`;
}

function splitKeys(joined: string): string[] {
  return joined === '' ? [] : joined.split('\u0001');
}

function codeOf<T>(list: readonly T[], value: T): number {
  const code = list.indexOf(value);
  if (code < 0) throw new Error(`not a known code: ${String(value)}`);
  return code;
}

function grow<T extends Float64Array | Int32Array | Uint8Array | Uint16Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

function uuidOf(bytes: Uint8Array): string {
  const h = Buffer.from(bytes).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
