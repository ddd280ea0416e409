import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dayString, isoOfMs } from '../../src/lookup/columns.ts';
import { JsonBytes, lit } from '../../src/lookup/json-bytes.ts';

const text = (write: (out: JsonBytes) => unknown, size = 8) => {
  const out = new JsonBytes(size);
  write(out);
  return out.bytes().toString('utf8');
};

describe('JSON written as bytes', () => {
  it('writes strings as JSON.stringify does, escaping whatever is not plain ASCII', () => {
    const samples = [
      '',
      'PEAEO-1/2.3',
      'a"b',
      'back\\slash',
      'tab\there',
      '\u0000\u001f',
      'caf\u00e9',
      '\u2028',
      '\ud83d\ude00',
      '\ud800 lone',
      '</script>',
      '~\u007f',
    ];
    for (const s of samples) expect(text((o) => o.str(s))).toBe(JSON.stringify(s));
  });

  it('grows past its first size without losing what was written', () => {
    const long = 'X'.repeat(5_000);
    const out = new JsonBytes(16);
    out.raw(lit('[')).str(long).raw(lit(',')).str('caf\u00e9'.repeat(300)).raw(lit(']'));
    expect(JSON.parse(out.bytes().toString())).toEqual([long, 'caf\u00e9'.repeat(300)]);
  });

  it('puts a head in front of the text, in the room kept for it or past it, after growing too', () => {
    for (const [room, headLength] of [
      [16, 0],
      [16, 10],
      [16, 16],
      [16, 17],
      [0, 5],
    ] as const) {
      const out = new JsonBytes(8, room);
      out.raw(lit('[')).str('X'.repeat(600)).raw(lit(']'));
      const head = lit('h'.repeat(headLength));
      expect(out.bytes().toString()).toBe(`["${'X'.repeat(600)}"]`);
      expect(out.withHead(head).toString()).toBe(`${'h'.repeat(headLength)}["${'X'.repeat(600)}"]`);
    }
  });

  it('writes base64url of every length as Buffer does', () => {
    const bytes = randomBytes(64);
    for (let offset = 0; offset < 3; offset += 1) {
      for (let n = 0; n <= 40; n += 1) {
        const expected = JSON.stringify(bytes.subarray(offset, offset + n).toString('base64url'));
        expect(text((o) => o.base64url(bytes, offset, n))).toBe(expected);
      }
    }
  });

  it('writes UUIDs in lowercase with their dashes', () => {
    const bytes = Buffer.from('00ff10ab7f8000017a9bcdef01234567', 'hex');
    expect(text((o) => o.uuid(Buffer.concat([Buffer.alloc(3), bytes]), 3))).toBe(
      '"00ff10ab-7f80-0001-7a9b-cdef01234567"',
    );
  });

  it('writes counts and refuses what is not one', () => {
    for (const n of [0, 1, 9, 10, 99, 100, 12_345, Number.MAX_SAFE_INTEGER])
      expect(text((o) => o.int(n))).toBe(String(n));
    for (const n of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1])
      expect(() => text((o) => o.int(n))).toThrow(RangeError);
  });
});

describe('timestamps without Date', () => {
  it('agrees with toISOString at the boundaries and across the range', () => {
    const edges = [
      0, 1, 999, 86_399_999, 951_782_400_000, 951_868_799_999, 4_107_542_400_000, 253_402_300_799_999,
    ];
    const random = Array.from({ length: 20_000 }, () => Math.floor(Math.random() * 253_402_300_800_000));
    for (const ms of [...edges, ...random]) expect(isoOfMs(ms)).toBe(new Date(ms).toISOString());
    for (const ms of [-1, 253_402_300_800_000, 1.5]) expect(isoOfMs(ms)).toBe(new Date(ms).toISOString());
    for (const ms of [...edges, ...random.slice(0, 2_000), -1, 253_402_300_800_000]) {
      expect(text((o) => o.iso(ms))).toBe(JSON.stringify(new Date(ms).toISOString()));
    }
    expect(text((o) => o.iso(951_782_400_000))).toBe('"2000-02-29T00:00:00.000Z"');
  });

  it('writes days as YYYY-MM-DD', () => {
    for (const day of [0, 11_016, 11_017, 47_540, 2_932_896, -1]) {
      expect(dayString(day)).toBe(new Date(day * 86_400_000).toISOString().slice(0, 10));
    }
  });
});
