/**
 * A JSON text written straight into bytes, for lookup answers (answer.ts): the answer goes out as a Buffer,
 * with no JS string built, flattened and encoded again on the way to the socket. Only what the answers need:
 * literal fragments prepared once, strings (escaped by JSON.stringify unless plainly safe), non-negative
 * integers, timestamps, UUIDs and base64url from raw bytes. Its output is held to JSON.parse and the answer
 * schema by the tests.
 */
import { civil, isoOfMs, MAX_ISO_MS, partsOfMs } from './columns.ts';

const HEX = Buffer.from('0123456789abcdef');
const B64URL = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_');
const QUOTE = 0x22;

/** Bytes of a literal fragment, prepared once. */
export const lit = (text: string): Buffer => Buffer.from(text, 'utf8');

export class JsonBytes {
  private buf: Buffer;
  private pos: number;
  /** Where the text begins: bytes before it are kept free for a head written once the text is done. */
  private readonly from: number;

  /** `headRoom`: bytes kept free in front of the text for `withHead`. */
  constructor(sizeHint: number, headRoom = 0) {
    this.buf = Buffer.allocUnsafe(Math.max(256, headRoom + sizeHint));
    this.pos = headRoom;
    this.from = headRoom;
  }

  /** The text written so far. */
  bytes(): Buffer {
    return this.buf.subarray(this.from, this.pos);
  }

  /** `head` then the text written so far: in place when the head fits the room kept for it, else copied. */
  withHead(head: Uint8Array): Buffer {
    if (head.length > this.from) return Buffer.concat([head, this.bytes()]);
    const start = this.from - head.length;
    this.buf.set(head, start);
    return this.buf.subarray(start, this.pos);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** A prepared fragment (lit). */
  raw(fragment: Uint8Array): this {
    const n = fragment.length;
    this.room(n);
    const { buf } = this;
    if (n > 24) buf.set(fragment, this.pos);
    else for (let i = 0; i < n; i += 1) buf[this.pos + i] = fragment[i]!;
    this.pos += n;
    return this;
  }

  /** A JSON string. Printable ASCII without quote or backslash is copied; anything else goes through JSON.stringify. */
  str(text: string): this {
    const n = text.length;
    this.room(n + 2);
    const { buf } = this;
    let at = this.pos;
    buf[at++] = QUOTE;
    for (let i = 0; i < n; i += 1) {
      const c = text.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === QUOTE || c === 0x5c) return this.escaped(text);
      buf[at++] = c;
    }
    buf[at++] = QUOTE;
    this.pos = at;
    return this;
  }

  private escaped(text: string): this {
    const json = JSON.stringify(text);
    const n = Buffer.byteLength(json, 'utf8');
    this.room(n);
    this.pos += this.buf.write(json, this.pos, n, 'utf8');
    return this;
  }

  /** A non-negative safe integer. */
  int(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a count: ${value}`);
    return this.ascii(String(value));
  }

  /** ASCII text known to need no escaping (digits, ISO timestamps). */
  private ascii(text: string): this {
    const n = text.length;
    this.room(n);
    for (let i = 0; i < n; i += 1) this.buf[this.pos + i] = text.charCodeAt(i);
    this.pos += n;
    return this;
  }

  /** An instant as a quoted ISO 8601 UTC string, as Date.prototype.toISOString writes it. */
  iso(ms: number): this {
    if (!(ms >= 0 && ms < MAX_ISO_MS) || !Number.isInteger(ms)) return this.str(isoOfMs(ms));
    this.room(26);
    const { buf } = this;
    const [day, hour, minute, second, milli] = partsOfMs(ms);
    buf[this.pos] = QUOTE;
    this.pos += 1;
    this.date(day);
    // THH:MM:SS.mmmZ"
    let p = this.pos;
    buf[p++] = 0x54;
    p = two(buf, p, hour);
    buf[p++] = 0x3a;
    p = two(buf, p, minute);
    buf[p++] = 0x3a;
    p = two(buf, p, second);
    buf[p++] = 0x2e;
    buf[p++] = 0x30 + Math.floor(milli / 100);
    p = two(buf, p, milli % 100);
    buf[p++] = 0x5a;
    buf[p++] = QUOTE;
    this.pos = p;
    return this;
  }

  /** YYYY-MM-DD of a day number (days since 1970-01-01, years up to 9999); columns.ts has the algorithm. */
  private date(day: number): void {
    const [y, m, d] = civil(day);
    const { buf } = this;
    let p = this.pos;
    p = two(buf, p, Math.floor(y / 100));
    p = two(buf, p, y % 100);
    buf[p++] = 0x2d;
    p = two(buf, p, m);
    buf[p++] = 0x2d;
    this.pos = two(buf, p, d);
  }

  /** 16 bytes as a quoted lowercase UUID. */
  uuid(bytes: Uint8Array, offset: number): this {
    this.room(38);
    const { buf } = this;
    let at = this.pos;
    buf[at++] = QUOTE;
    for (let i = 0; i < 16; i += 1) {
      if (i === 4 || i === 6 || i === 8 || i === 10) buf[at++] = 0x2d;
      const b = bytes[offset + i]!;
      buf[at++] = HEX[b >> 4]!;
      buf[at++] = HEX[b & 15]!;
    }
    buf[at++] = QUOTE;
    this.pos = at;
    return this;
  }

  /** `length` bytes as a quoted base64url string without padding. */
  base64url(bytes: Uint8Array, offset: number, length: number): this {
    this.room(Math.ceil((length * 4) / 3) + 2);
    const { buf } = this;
    let at = this.pos;
    buf[at++] = QUOTE;
    const end = offset + length;
    let i = offset;
    for (; i + 3 <= end; i += 3) {
      const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
      buf[at++] = B64URL[n >> 18]!;
      buf[at++] = B64URL[(n >> 12) & 63]!;
      buf[at++] = B64URL[(n >> 6) & 63]!;
      buf[at++] = B64URL[n & 63]!;
    }
    const left = end - i;
    if (left > 0) {
      const n = (bytes[i]! << 16) | (left === 2 ? bytes[i + 1]! << 8 : 0);
      buf[at++] = B64URL[n >> 18]!;
      buf[at++] = B64URL[(n >> 12) & 63]!;
      if (left === 2) buf[at++] = B64URL[(n >> 6) & 63]!;
    }
    buf[at++] = QUOTE;
    this.pos = at;
    return this;
  }
}

/** Two decimal digits of 0..99 at `at`; returns the position after them. */
function two(buf: Buffer, at: number, n: number): number {
  buf[at] = 0x30 + Math.floor(n / 10);
  buf[at + 1] = 0x30 + (n % 10);
  return at + 2;
}
