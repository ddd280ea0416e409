/**
 * The query string reader of every listener (src/http/strict-input.ts): one value per name, decoded strictly;
 * a repeat or a broken escape marks the whole query for refusal rather than being resolved one way or another.
 */
import { describe, expect, it } from 'vitest';
import { parseQueryString } from '../../src/http/strict-input.ts';

const faultOf = (query: object) => Object.getOwnPropertySymbols(query).map((s) => (query as never)[s]);

describe('parseQueryString', () => {
  it('reads names and values, with + as a space and percent escapes decoded', () => {
    const q = parseQueryString('limit=10&after=ZmVlZC8xOjA&name=a+b%20c&empty=&flag&&');
    expect({ ...q }).toEqual({ limit: '10', after: 'ZmVlZC8xOjA', name: 'a b c', empty: '', flag: '' });
    expect(faultOf(q)).toEqual([]);
    expect(Object.getPrototypeOf(q)).toBeNull();
    expect({ ...parseQueryString('') }).toEqual({});
  });

  it('marks a repeated name, even with another value or spelled with an escape', () => {
    for (const text of ['limit=1&limit=2', 'limit=1&limit=1', 'limit=1&%6Cimit=2', 'a=&a']) {
      expect(faultOf(parseQueryString(text)), text).toEqual([expect.stringMatching(/repeated/)]);
    }
  });

  it('marks broken escapes and invalid UTF-8', () => {
    for (const text of [
      'after=%zz',
      'after=%',
      'after=%E0%A4%A',
      'after=%C3%28',
      'after=%ED%A0%80',
      '%ff=1',
    ]) {
      expect(faultOf(parseQueryString(text)), text).toEqual([expect.stringMatching(/percent-encoded/)]);
    }
  });

  it('keeps prototype names as plain names, for the route schema to refuse', () => {
    const q = parseQueryString('__proto__=x&constructor=y');
    expect(Object.keys(q)).toEqual(['__proto__', 'constructor']);
    expect(({} as { x?: unknown }).x).toBeUndefined();
  });
});
