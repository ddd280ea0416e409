/**
 * A minimal, strict DER reader: just enough to walk an X.509 certificate. Everything read here comes from a
 * partner's message, so every rule of DER that matters for a unique reading is enforced and anything else
 * throws a DerError. Values are views into the input, never copies, so reading never costs more than the
 * input's size.
 */

export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

/** Universal tags the certificate walk uses. */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** No certificate nests anywhere near this deep; the cap bounds the work of any walk over hostile input. */
export const MAX_DEPTH = 32;

/** Four length bytes reach 4 GiB; nothing this reader is given comes near, so longer forms are refused. */
const MAX_LENGTH_BYTES = 4;

export interface DerElement {
  /** The identifier octet as found (class, constructed bit and tag number). */
  tag: number;
  constructed: boolean;
  /** The whole element: identifier, length and contents. */
  raw: Uint8Array;
  /** The contents only. */
  value: Uint8Array;
  /** 0 for an element read from a buffer, one more for each level of children. */
  depth: number;
}

/** Context-specific tag byte for `[n]`, constructed or not. */
export function contextTag(n: number, constructed: boolean): number {
  return 0x80 | (constructed ? 0x20 : 0) | n;
}

/** Reads one element at `offset`, bounded by `buf.length`. */
function readElement(buf: Uint8Array, offset: number, depth: number): DerElement {
  if (depth > MAX_DEPTH) throw new DerError(`nesting deeper than ${MAX_DEPTH}`);
  let pos = offset;
  if (pos >= buf.length) throw new DerError('truncated: no identifier octet');
  const tag = buf[pos++]!;
  // Multi-byte tag numbers never occur in X.509; refusing them keeps every tag one byte.
  if ((tag & 0x1f) === 0x1f) throw new DerError('high-tag-number form is not supported');
  if (pos >= buf.length) throw new DerError('truncated: no length octet');
  const first = buf[pos++]!;
  let length: number;
  if (first < 0x80) {
    length = first;
  } else if (first === 0x80) {
    throw new DerError('indefinite length is not DER');
  } else {
    const count = first & 0x7f;
    if (count > MAX_LENGTH_BYTES) throw new DerError(`length of ${count} octets is too long`);
    if (pos + count > buf.length) throw new DerError('truncated: length octets');
    if (buf[pos] === 0) throw new DerError('length has a leading zero octet (not minimal)');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[pos++]!;
    if (length < 0x80) throw new DerError('long-form length below 128 (not minimal)');
  }
  if (length > buf.length - pos) {
    throw new DerError(`truncated: contents need ${length} octets, ${buf.length - pos} remain`);
  }
  const end = pos + length;
  return {
    tag,
    constructed: (tag & 0x20) !== 0,
    raw: buf.subarray(offset, end),
    value: buf.subarray(pos, end),
    depth,
  };
}

/** Reads a buffer that must hold exactly one element, nothing after it. */
export function decodeDer(buf: Uint8Array, depth = 0): DerElement {
  const el = readElement(buf, 0, depth);
  if (el.raw.length !== buf.length) {
    throw new DerError(`${buf.length - el.raw.length} trailing octets after the element`);
  }
  return el;
}

/** The elements inside a constructed element, in order; its contents must be exactly those elements. */
export function children(el: DerElement): DerElement[] {
  if (!el.constructed) throw new DerError(`tag 0x${hex(el.tag)} is primitive, expected constructed`);
  const out: DerElement[] = [];
  let offset = 0;
  while (offset < el.value.length) {
    const child = readElement(el.value, offset, el.depth + 1);
    out.push(child);
    offset += child.raw.length;
  }
  return out;
}

/** Asserts the tag; `what` names the field in the error. */
export function expectTag(el: DerElement | undefined, tag: number, what: string): DerElement {
  if (el === undefined) throw new DerError(`${what}: missing`);
  if (el.tag !== tag) throw new DerError(`${what}: tag 0x${hex(el.tag)}, expected 0x${hex(tag)}`);
  return el;
}

/** Children of a SEQUENCE, checked to be one. */
export function sequence(el: DerElement | undefined, what: string): DerElement[] {
  return children(expectTag(el, TAG.SEQUENCE, what));
}

/** Reads the one element an OCTET STRING wraps (extension values), one level deeper. */
export function decodeWrapped(el: DerElement): DerElement {
  return decodeDer(el.value, el.depth + 1);
}

export function decodeOid(el: DerElement): string {
  expectTag(el, TAG.OID, 'OBJECT IDENTIFIER');
  const v = el.value;
  if (v.length === 0) throw new DerError('empty OBJECT IDENTIFIER');
  // 128 octets hold any OID in real use; a cap keeps the string built here small.
  if (v.length > 128) throw new DerError('OBJECT IDENTIFIER is too long');
  if ((v[v.length - 1]! & 0x80) !== 0) throw new DerError('OBJECT IDENTIFIER ends inside an arc');
  const arcs: bigint[] = [];
  let arc = 0n;
  let startOfArc = true;
  for (const byte of v) {
    if (startOfArc && byte === 0x80)
      throw new DerError('OBJECT IDENTIFIER arc has a leading 0x80 (not minimal)');
    arc = (arc << 7n) | BigInt(byte & 0x7f);
    startOfArc = (byte & 0x80) === 0;
    if (startOfArc) {
      arcs.push(arc);
      arc = 0n;
    }
  }
  const head = arcs[0]!;
  const first = head < 40n ? 0n : head < 80n ? 1n : 2n;
  return [first, head - first * 40n, ...arcs.slice(1)].join('.');
}

export function decodeBoolean(el: DerElement): boolean {
  expectTag(el, TAG.BOOLEAN, 'BOOLEAN');
  if (el.value.length !== 1) throw new DerError(`BOOLEAN of ${el.value.length} octets`);
  const b = el.value[0]!;
  // DER allows exactly 0x00 and 0xFF; any other non-zero is BER and could be read differently elsewhere.
  if (b === 0xff) return true;
  if (b === 0x00) return false;
  throw new DerError(`BOOLEAN octet 0x${hex(b)} is not DER`);
}

export interface BitString {
  unusedBits: number;
  bytes: Uint8Array;
}

export function decodeBitString(el: DerElement): BitString {
  expectTag(el, TAG.BIT_STRING, 'BIT STRING');
  if (el.value.length === 0) throw new DerError('BIT STRING without its unused-bits octet');
  const unusedBits = el.value[0]!;
  const bytes = el.value.subarray(1);
  if (unusedBits > 7) throw new DerError(`BIT STRING with ${unusedBits} unused bits`);
  if (bytes.length === 0 && unusedBits !== 0) throw new DerError('empty BIT STRING with unused bits');
  if (bytes.length > 0 && (bytes[bytes.length - 1]! & ((1 << unusedBits) - 1)) !== 0) {
    throw new DerError('BIT STRING unused bits are not zero');
  }
  return { unusedBits, bytes };
}

/** Bit `n` of a BIT STRING, counted from the most significant bit of the first octet (X.509 named bits). */
export function bitIsSet(bits: BitString, n: number): boolean {
  const byte = bits.bytes[n >> 3];
  return byte !== undefined && (byte & (0x80 >> (n & 7))) !== 0;
}

/** A small non-negative INTEGER (version, pathLenConstraint); anything else is refused. */
export function decodeSmallInteger(el: DerElement): number {
  expectTag(el, TAG.INTEGER, 'INTEGER');
  const v = el.value;
  if (v.length === 0) throw new DerError('empty INTEGER');
  if (v.length > 1 && v[0] === 0 && (v[1]! & 0x80) === 0) throw new DerError('INTEGER not minimally encoded');
  if ((v[0]! & 0x80) !== 0) throw new DerError('negative INTEGER');
  if (v.length > 4) throw new DerError('INTEGER too large');
  let n = 0;
  for (const byte of v) n = n * 256 + byte;
  return n;
}

/**
 * An INTEGER of any size as a signed value in lowercase hex ('-' before a negative one), so that two encodings
 * of the same number (a redundant leading 0x00 or 0xFF, which some parsers tolerate) give one key.
 */
export function integerKey(el: DerElement): string {
  expectTag(el, TAG.INTEGER, 'INTEGER');
  const v = el.value;
  if (v.length === 0) throw new DerError('empty INTEGER');
  let n = BigInt(`0x${Buffer.from(v).toString('hex')}`);
  if ((v[0]! & 0x80) !== 0) n -= 1n << BigInt(v.length * 8);
  return n < 0n ? `-${(-n).toString(16)}` : n.toString(16);
}

/**
 * UTCTime or GeneralizedTime in the only forms RFC 5280 §4.1.2.5 allows: seconds present, no fraction, `Z`.
 * UTCTime years 50 to 99 are 1950 to 1999.
 */
export function decodeTime(el: DerElement, what: string): Date {
  const text = Buffer.from(el.value).toString('latin1');
  let match: RegExpExecArray | null;
  let year: number;
  if (el.tag === TAG.UTC_TIME) {
    match = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
    year = match ? Number(match[1]) + (Number(match[1]) < 50 ? 2000 : 1900) : 0;
  } else if (el.tag === TAG.GENERALIZED_TIME) {
    match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
    year = match ? Number(match[1]) : 0;
  } else {
    throw new DerError(`${what}: tag 0x${hex(el.tag)} is not a time`);
  }
  if (match === null) throw new DerError(`${what}: "${text.slice(0, 32)}" is not a DER time`);
  const [month, day, hour, minute, second] = match.slice(2).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(ms);
  // Date.UTC rolls 31 February over into March (and years below 100 into the 1900s): a value that does not
  // come back unchanged is not a date.
  if (
    date.getUTCFullYear() !== year ||
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    throw new DerError(`${what}: "${text}" is not a valid date and time`);
  }
  return date;
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
