import { describe, expect, it } from 'vitest';
import { parseStrictJson, parseStrictJsonObject } from '../../src/crypto/strict-json.ts';
import type { StrictJsonFailure, StrictJsonOptions } from '../../src/crypto/strict-json-parser.ts';

const OPTS: StrictJsonOptions = { maxDepth: 16 };
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function reasonOf(input: string | Uint8Array, opts: StrictJsonOptions = OPTS): StrictJsonFailure | 'ok' {
  const result = parseStrictJson(typeof input === 'string' ? utf8(input) : input, opts);
  return result.ok ? 'ok' : result.reason;
}

function nested(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

function timed<T>(f: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = f();
  return { value, ms: performance.now() - started };
}

describe('parseStrictJson: what it accepts', () => {
  const documents = [
    '{}',
    '[]',
    '""',
    '0',
    '-1.5e-3',
    '9007199254740991',
    '-9007199254740991',
    '0.5',
    '1E2',
    'true',
    'false',
    'null',
    ' \t\r\n{ "a" : [ 1 , 2 ] } \n',
    '{"a":"\\"\\\\\\/\\n\\r\\t\\u00e9\\u20AC\\ud83d\\ude00","b":{"c":[null,true,{"d":[]}]}}',
    '{"toString":1,"hasOwnProperty":2,"valueOf":3,"__proto":4,"proto__":5}',
    '"\u2028\u2029\u007f\u0085"',
  ];
  it.each(documents)('reads %s exactly as JSON.parse does', (doc) => {
    expect(parseStrictJson(utf8(doc), OPTS)).toEqual({ ok: true, value: JSON.parse(doc) });
  });

  it('builds plain objects whose members are own data properties only', () => {
    const result = parseStrictJson(utf8('{"a":{"b":1},"toString":"x"}'), OPTS);
    if (!result.ok) throw new Error(result.detail);
    const value = result.value as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['a', 'toString']);
    expect(Object.getOwnPropertyDescriptor(value, 'toString')).toMatchObject({ value: 'x', writable: true });
    expect(({} as Record<string, unknown>).a).toBeUndefined();
  });

  it('allows exactly maxDepth levels of nesting', () => {
    expect(reasonOf(nested(16))).toBe('ok');
    expect(reasonOf(`${'{"a":'.repeat(15)}[]${'}'.repeat(15)}`)).toBe('ok');
  });
});

describe('parseStrictJson: docs/threats.md E as parser failures', () => {
  it('E34: a duplicate member, also when spelled with an escape', () => {
    expect(reasonOf('{"status":"suspended","status":"certified"}')).toBe('duplicate-member');
    expect(reasonOf('{"a":{"status":1,"st\\u0061tus":2}}')).toBe('duplicate-member');
  });

  it.each([
    ['__proto__', '{"__proto__":{"admin":true}}'],
    ['escaped __proto__', '{"\\u005f_proto__":{}}'],
    ['constructor', '{"constructor":{"prototype":{"admin":true}}}'],
    ['prototype', '{"a":{"prototype":1}}'],
  ])('E35: member named %s', (_name, doc) => {
    expect(reasonOf(doc)).toBe('forbidden-member-name');
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('E35: nesting deeper than 16, objects and arrays alike', () => {
    expect(reasonOf(nested(17))).toBe('too-deep');
    expect(reasonOf(`${'{"a":'.repeat(17)}1${'}'.repeat(17)}`)).toBe('too-deep');
    expect(reasonOf(`${'{"a":['.repeat(9)}${']}'.repeat(9)}`)).toBe('too-deep');
  });

  it('E35: a 5,000-deep array, and a 1,000,000-deep one, fail fast without exhausting the stack', () => {
    for (const depth of [5_000, 1_000_000]) {
      const bytes = utf8(nested(depth));
      const { value, ms } = timed(() => parseStrictJson(bytes, OPTS));
      expect(value).toMatchObject({ ok: false, reason: 'too-deep' });
      expect(ms).toBeLessThan(200);
    }
  });

  it.each([
    ['1e400', '{"version":1e400}'],
    ['-1e400', '[-1e400]'],
    ['-0', '{"version":-0}'],
    ['-0.0', '[-0.0]'],
    ['-0e7', '[-0e7]'],
    ['2^53', '{"version":9007199254740992}'],
    ['2^53 + 1', '{"version":9007199254740993}'],
    ['-(2^53)', '[-9007199254740992]'],
    ['1e16', '[1e16]'],
    ['1e-400 (underflows to 0)', '[1e-400]'],
  ])('E36: number %s', (_name, doc) => {
    expect(reasonOf(doc)).toBe('number-out-of-range');
  });

  it.each([
    ['high surrogate alone', '"\\ud800"'],
    ['high surrogate at the end of a string', '"abc\\uDBFF"'],
    ['low surrogate alone', '"\\udc00"'],
    ['reversed pair', '"\\udc00\\ud800"'],
    ['high surrogate then a non-surrogate escape', '"\\ud800\\u0041"'],
    ['high surrogate then a simple escape', '"\\ud800\\n"'],
    ['lone surrogate in a member name', '{"\\ud800":1}'],
  ])('E37: %s', (_name, doc) => {
    expect(reasonOf(doc)).toBe('lone-surrogate');
  });

  it.each([
    ['lone continuation byte', [0x22, 0x80, 0x22]],
    ['overlong "/"', [0x22, 0xc0, 0xaf, 0x22]],
    ['truncated sequence', [0x22, 0xe2, 0x82, 0x22]],
    ['UTF-8 encoded surrogate (CESU-8)', [0x22, 0xed, 0xa0, 0x80, 0x22]],
    ['code point beyond U+10FFFF', [0x22, 0xf4, 0x90, 0x80, 0x80, 0x22]],
    ['Latin-1 byte', [0x7b, 0x22, 0x6e, 0xe9, 0x22, 0x3a, 0x31, 0x7d]],
  ])('E37: invalid UTF-8: %s', (_name, bytes) => {
    expect(reasonOf(new Uint8Array(bytes))).toBe('invalid-utf8');
  });

  it('E37: a byte order mark, at the start or in the middle', () => {
    expect(reasonOf(new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]))).toBe('bom');
    expect(reasonOf(new Uint8Array([0x20, 0xef, 0xbb, 0xbf, 0x7b, 0x7d]))).toBe('syntax');
  });

  it.each([
    ['empty input', ''],
    ['white space only', '  '],
    ['trailing comma in an object', '{"a":1,}'],
    ['trailing comma in an array', '[1,]'],
    ['single quotes', "{'a':1}"],
    ['unquoted name', '{a:1}'],
    ['comment', '{"a":1/*x*/}'],
    ['two values', '{}{}'],
    ['NaN', '[NaN]'],
    ['Infinity', '[Infinity]'],
    ['leading zero', '[01]'],
    ['leading plus', '[+1]'],
    ['bare dot', '[1.]'],
    ['hex number', '[0x10]'],
    ['unterminated string', '{"a":"b'],
    ['unterminated object', '{"a":1'],
    ['invalid escape', '"\\x41"'],
    ['short \\u escape', '"\\u12"'],
    ['truncated literal', '[tru]'],
    ['literal with a tail', '[truex]'],
    ['non-breaking space as white space', '{\u00a0}'],
    ['a compact JWS', 'eyJhbGciOiJFUzI1NiJ9.e30.AA'],
  ])('E40: not JSON: %s', (_name, doc) => {
    expect(reasonOf(doc)).toBe('syntax');
  });

  it.each([
    ['raw NUL', '"a\u0000b"'],
    ['raw tab', '"a\tb"'],
    ['raw newline', '"a\nb"'],
  ])('raw control characters are not JSON: %s', (_name, doc) => {
    expect(reasonOf(doc)).toBe('syntax');
  });

  it.each([
    ['escaped NUL', '"a\\u0000b"'],
    ['escaped backspace', '"\\b"'],
    ['escaped form feed', '"\\f"'],
    ['escaped U+001F', '"\\u001f"'],
  ])('escaped control characters: %s', (_name, doc) => {
    expect(reasonOf(doc)).toBe('control-character');
  });

  it('keeps the escaped tab, line feed and carriage return of free text', () => {
    expect(parseStrictJson(utf8('"a\\tb\\nc\\rd\\u0009"'), OPTS)).toEqual({
      ok: true,
      value: 'a\tb\nc\rd\t',
    });
  });

  it('E40: a JSON array where an object is required', () => {
    expect(parseStrictJsonObject(utf8('[{"a":1}]'), OPTS)).toMatchObject({
      ok: false,
      reason: 'not-an-object',
    });
    expect(parseStrictJsonObject(utf8('null'), OPTS)).toMatchObject({ ok: false, reason: 'not-an-object' });
    expect(parseStrictJsonObject(utf8('"{}"'), OPTS)).toMatchObject({ ok: false, reason: 'not-an-object' });
    expect(parseStrictJsonObject(utf8('{"a":1}'), OPTS)).toEqual({ ok: true, value: { a: 1 } });
  });

  it('E40: over-long strings and arrays, counted after unescaping', () => {
    const opts = { maxDepth: 16, maxStringLength: 8, maxArrayLength: 3 };
    expect(reasonOf('"12345678"', opts)).toBe('ok');
    expect(reasonOf('"123456789"', opts)).toBe('string-too-long');
    expect(reasonOf('"\\u0031\\u0032\\u0033\\u0034\\u0035\\u0036\\u0037\\u0038"', opts)).toBe('ok');
    expect(reasonOf('"1234567\\n8"', opts)).toBe('string-too-long');
    expect(reasonOf('{"123456789":1}', opts)).toBe('string-too-long');
    expect(reasonOf('[1,2,3]', opts)).toBe('ok');
    expect(reasonOf('[1,2,3,4]', opts)).toBe('array-too-long');
  });

  it('E40: 1 MiB strings finish in bounded time, plain or full of escapes, limited or not', () => {
    const plain = utf8(`{"a":"${'x'.repeat(1024 * 1024)}"}`);
    const escaped = utf8(`{"a":"${'\\n'.repeat(512 * 1024)}"}`);
    for (const bytes of [plain, escaped]) {
      const unlimited = timed(() => parseStrictJson(bytes, OPTS));
      expect(unlimited.value.ok).toBe(true);
      expect(unlimited.ms).toBeLessThan(1000);
      const limited = timed(() => parseStrictJson(bytes, { maxDepth: 16, maxStringLength: 4096 }));
      expect(limited.value).toMatchObject({ ok: false, reason: 'string-too-long' });
      expect(limited.ms).toBeLessThan(1000);
    }
  });

  it('a 1 MiB array of numbers with a length limit fails at the limit', () => {
    const bytes = utf8(`[${'1,'.repeat(512 * 1024)}1]`);
    const { value, ms } = timed(() => parseStrictJson(bytes, { maxDepth: 16, maxArrayLength: 1000 }));
    expect(value).toMatchObject({ ok: false, reason: 'array-too-long' });
    expect(ms).toBeLessThan(200);
  });

  it('refuses a maxDepth that could make the stack the limit', () => {
    expect(() => parseStrictJson(utf8('[]'), { maxDepth: 100_000 })).toThrow(RangeError);
    expect(() => parseStrictJson(utf8('[]'), { maxDepth: 0 })).toThrow(RangeError);
  });

  it('names the offset of a failure but never echoes the input', () => {
    const result = parseStrictJson(utf8('{"secret-value":1,"secret-value":2}'), OPTS);
    expect(result).toMatchObject({ ok: false, reason: 'duplicate-member' });
    if (!result.ok) expect(result.detail).not.toContain('secret-value');
  });
});
