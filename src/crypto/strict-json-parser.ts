/**
 * The parser behind strict-json.ts: one hand-written pass over the decoded text checks and builds the value.
 * Measured on a 1.4 KB record it is faster than a checking pre-scan followed by JSON.parse (about 8 against
 * 12 µs), and it never keeps two readings of the same bytes. Recursion stays shallow because depth is checked
 * before descending, and parseStrictJson caps maxDepth so that no option can make the stack the limit.
 *
 * Objects are ordinary `{}` objects, since ajv and the rest of the code expect them. That is safe because the
 * names that could reach or shadow a prototype (`__proto__`, `constructor`, `prototype`) are refused before
 * any assignment, so every member becomes a plain own data property.
 */

export type StrictJsonFailure =
  | 'invalid-utf8'
  | 'bom'
  | 'syntax'
  | 'duplicate-member'
  | 'forbidden-member-name'
  | 'too-deep'
  | 'number-out-of-range'
  | 'lone-surrogate'
  | 'control-character'
  | 'string-too-long'
  | 'array-too-long'
  | 'not-an-object';

export interface StrictJsonOptions {
  /** Most nested objects and arrays, the outermost counting as 1. */
  maxDepth: number;
  /** Most UTF-16 code units in a string, member names included. */
  maxStringLength?: number;
  maxArrayLength?: number;
}

const FORBIDDEN_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
// \b and \f are left out on purpose: control characters have no place in these documents (see readEscape).
const SIMPLE_ESCAPES: ReadonlyMap<string, string> = new Map([
  ['"', '"'],
  ['\\', '\\'],
  ['/', '/'],
  ['n', '\n'],
  ['r', '\r'],
  ['t', '\t'],
]);
const HEX4 = /^[0-9A-Fa-f]{4}$/;
/**
 * A run of characters that stand for themselves in a string: all but the quote, the backslash and the C0
 * controls. Sticky, so that it matches exactly where it is put; it always matches, if only the empty run.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the C0 controls are what a run stops at.
const PLAIN_RUN = /[^"\\\u0000-\u001f]*/y;
/** Strings longer than this are skipped by PLAIN_RUN, shorter ones character by character (the call costs more). */
const SHORT_STRING = 16;

/** Thrown inside the parser, caught by parseStrictJson; not an Error, so failing costs no stack capture on hostile input. */
export class Failure {
  readonly result: { ok: false; reason: StrictJsonFailure; detail: string };
  constructor(reason: StrictJsonFailure, detail: string) {
    this.result = { ok: false, reason, detail };
  }
}

/** One decoded text, read once by parseDocument; a refusal is thrown as a Failure. */
export class Parser {
  private readonly text: string;
  private pos = 0;
  private readonly maxDepth: number;
  private readonly maxString: number;
  private readonly maxArray: number;

  constructor(text: string, opts: StrictJsonOptions) {
    this.text = text;
    this.maxDepth = opts.maxDepth;
    this.maxString = opts.maxStringLength ?? Number.POSITIVE_INFINITY;
    this.maxArray = opts.maxArrayLength ?? Number.POSITIVE_INFINITY;
  }

  parseDocument(): unknown {
    const value = this.parseValue(0);
    this.skipWhitespace();
    if (this.pos !== this.text.length) this.fail('syntax', 'unexpected content after the value');
    return value;
  }

  private fail(reason: StrictJsonFailure, what: string): never {
    throw new Failure(reason, `${what} at offset ${this.pos}`);
  }

  private skipWhitespace(): void {
    let c = this.text.charCodeAt(this.pos);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = this.text.charCodeAt(++this.pos);
  }

  /** `depth` is the number of containers already open around this value. */
  private parseValue(depth: number): unknown {
    this.skipWhitespace();
    const c = this.text.charCodeAt(this.pos);
    if (c === 0x7b) return this.parseObject(depth + 1);
    if (c === 0x5b) return this.parseArray(depth + 1);
    if (c === 0x22) return this.parseString();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.parseNumber();
    if (this.text.startsWith('true', this.pos)) return this.literal(4, true);
    if (this.text.startsWith('false', this.pos)) return this.literal(5, false);
    if (this.text.startsWith('null', this.pos)) return this.literal(4, null);
    return this.fail('syntax', Number.isNaN(c) ? 'unexpected end of input' : 'unexpected character');
  }

  private literal<T>(length: number, value: T): T {
    this.pos += length;
    return value;
  }

  private parseObject(depth: number): Record<string, unknown> {
    if (depth > this.maxDepth) this.fail('too-deep', `nesting deeper than ${this.maxDepth}`);
    this.pos++;
    const object: Record<string, unknown> = {};
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) === 0x7d) return this.literal(1, object);
    for (;;) {
      if (this.text.charCodeAt(this.pos) !== 0x22) this.fail('syntax', 'expected a member name');
      const name = this.parseString();
      if (FORBIDDEN_NAMES.has(name)) this.fail('forbidden-member-name', `member named ${name}`);
      if (Object.hasOwn(object, name)) this.fail('duplicate-member', 'duplicate member name');
      this.skipWhitespace();
      if (this.text.charCodeAt(this.pos) !== 0x3a) this.fail('syntax', "expected ':'");
      this.pos++;
      object[name] = this.parseValue(depth);
      this.skipWhitespace();
      const c = this.text.charCodeAt(this.pos++);
      if (c === 0x7d) return object;
      if (c !== 0x2c) this.fail('syntax', "expected ',' or '}'");
      this.skipWhitespace();
    }
  }

  private parseArray(depth: number): unknown[] {
    if (depth > this.maxDepth) this.fail('too-deep', `nesting deeper than ${this.maxDepth}`);
    this.pos++;
    const array: unknown[] = [];
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) === 0x5d) return this.literal(1, array);
    for (;;) {
      if (array.length >= this.maxArray) this.fail('array-too-long', `array longer than ${this.maxArray}`);
      array.push(this.parseValue(depth));
      this.skipWhitespace();
      const c = this.text.charCodeAt(this.pos++);
      if (c === 0x5d) return array;
      if (c !== 0x2c) this.fail('syntax', "expected ',' or ']'");
    }
  }

  /**
   * Most strings have no escape: they are one slice of the text. A long one (a compact JWS in a request body)
   * is scanned by the regular expression engine rather than character by character here: the same characters
   * are refused, several times faster.
   */
  private parseString(): string {
    const text = this.text;
    let chunkStart = this.pos + 1;
    let pos = chunkStart;
    let decoded = '';
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 0x22) break;
      if (c >= 0x20 && c !== 0x5c) {
        pos++;
        if (pos - chunkStart === SHORT_STRING) {
          PLAIN_RUN.lastIndex = pos;
          PLAIN_RUN.test(text);
          pos = PLAIN_RUN.lastIndex;
        }
        continue;
      }
      this.pos = pos;
      if (Number.isNaN(c)) this.fail('syntax', 'unterminated string');
      // RFC 8259 §7: raw control characters are not JSON at all, unlike escaped ones (readEscape).
      if (c !== 0x5c) this.fail('syntax', 'raw control character in a string');
      decoded += text.slice(chunkStart, pos) + this.readEscape(pos);
      pos = chunkStart = this.pos;
      if (decoded.length > this.maxString)
        this.fail('string-too-long', `string longer than ${this.maxString}`);
    }
    this.pos = pos + 1;
    if (decoded.length + pos - chunkStart > this.maxString) {
      this.fail('string-too-long', `string longer than ${this.maxString}`);
    }
    return decoded === '' ? text.slice(chunkStart, pos) : decoded + text.slice(chunkStart, pos);
  }

  /**
   * The text of the escape at `pos` (a backslash), one code unit or a surrogate pair of two \u escapes;
   * leaves `this.pos` just after it. Escaped C0 controls other than tab, LF and CR are refused: NUL above
   * all, which PostgreSQL text and jsonb cannot hold, so it would fail far from here.
   */
  private readEscape(pos: number): string {
    const text = this.text;
    const e = text.charAt(pos + 1);
    const simple = SIMPLE_ESCAPES.get(e);
    if (simple !== undefined) {
      this.pos = pos + 2;
      return simple;
    }
    if (e === 'b' || e === 'f') this.fail('control-character', 'escaped control character in a string');
    if (e !== 'u') this.fail('syntax', 'invalid escape');
    const unit = this.hex4(pos + 2);
    if (unit < 0x20 && unit !== 0x09 && unit !== 0x0a && unit !== 0x0d) {
      this.fail('control-character', 'escaped control character in a string');
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) this.fail('lone-surrogate', 'lone low surrogate');
    if (unit < 0xd800 || unit > 0xdbff) {
      this.pos = pos + 6;
      return String.fromCharCode(unit);
    }
    // Raw surrogates cannot follow: fatal UTF-8 decoding never yields them. So the pair must be two escapes.
    const low =
      text.charCodeAt(pos + 6) === 0x5c && text.charCodeAt(pos + 7) === 0x75 ? this.hex4(pos + 8) : -1;
    if (low < 0xdc00 || low > 0xdfff) this.fail('lone-surrogate', 'high surrogate without a low one');
    this.pos = pos + 12;
    return String.fromCharCode(unit, low);
  }

  private hex4(at: number): number {
    const digits = this.text.slice(at, at + 4);
    if (!HEX4.test(digits)) this.fail('syntax', 'invalid \\u escape');
    return Number.parseInt(digits, 16);
  }

  private parseNumber(): number {
    const text = this.text;
    const start = this.pos;
    let pos = start;
    if (text.charCodeAt(pos) === 0x2d) pos++;
    const first = text.charCodeAt(pos);
    if (first === 0x30) pos++;
    else if (first >= 0x31 && first <= 0x39) pos = this.digits(pos);
    else this.fail('syntax', 'invalid number');
    if (text.charCodeAt(pos) === 0x2e) pos = this.requireDigits(pos + 1);
    const mantissaEnd = pos;
    if ((text.charCodeAt(pos) | 0x20) === 0x65) {
      const sign = text.charCodeAt(++pos);
      pos = this.requireDigits(sign === 0x2b || sign === 0x2d ? pos + 1 : pos);
    }
    this.pos = pos;
    const value = Number(text.slice(start, pos));
    if (!Number.isFinite(value)) this.fail('number-out-of-range', 'number too large');
    if (Math.abs(value) > Number.MAX_SAFE_INTEGER) this.fail('number-out-of-range', 'number beyond 2^53 - 1');
    if (value === 0) {
      if (Object.is(value, -0)) this.fail('number-out-of-range', 'negative zero');
      // 1e-400 reads as 0: a non-zero digit that vanished means the reader sees another number than signed.
      if (/[1-9]/.test(text.slice(start, mantissaEnd)))
        this.fail('number-out-of-range', 'number underflows to 0');
    }
    return value;
  }

  private digits(pos: number): number {
    let c = this.text.charCodeAt(pos);
    // Written so that NaN (end of input) also stops.
    while (c >= 0x30 && c <= 0x39) c = this.text.charCodeAt(++pos);
    return pos;
  }

  private requireDigits(pos: number): number {
    const end = this.digits(pos);
    if (end === pos) {
      this.pos = pos;
      this.fail('syntax', 'invalid number');
    }
    return end;
  }
}
