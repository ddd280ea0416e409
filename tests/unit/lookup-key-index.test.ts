import { describe, expect, it } from 'vitest';
import { IdentifierIndex } from '../../src/lookup/identifier-index.ts';
import { KeyIndex } from '../../src/lookup/key-index.ts';

/** A small deterministic generator, so that a failure replays. */
function random(seed: number) {
  let s = seed;
  return (n: number) => {
    s = (Math.imul(s, 1_103_515_245) + 12_345) >>> 0;
    return s % n;
  };
}

describe('key index in typed arrays', () => {
  it('finds every key it was given, through many rehashes, and no other', () => {
    const index = new KeyIndex();
    const ids = new Map<string, number>();
    for (let i = 0; i < 50_000; i += 1) {
      const tag = i % 7;
      const key = `AEO${i.toString(36).toUpperCase()}`;
      const id = index.add(tag, key);
      expect(id).toBe(i);
      ids.set(`${tag}|${key}`, id);
    }
    expect(index.size).toBe(50_000);
    for (const [k, id] of ids) {
      const [tag, key] = k.split('|') as [string, string];
      expect(index.find(Number(tag), key)).toBe(id);
      expect(index.add(Number(tag), key)).toBe(id);
      expect(index.first(id)).toBe(key);
    }
    expect(index.find(0, 'AEO1')).toBe(-1); // AEO1 was added with tag 1
    expect(index.find(1, 'AEO1')).toBe(1);
    expect(index.find(1, 'AEO')).toBe(-1);
    expect(index.find(1, 'AEO1 ')).toBe(-1);
  });

  it('tells two-part keys apart from one-part ones and from each other', () => {
    const index = new KeyIndex();
    const a = index.add(3, 'TIN', '123');
    const b = index.add(3, 'TIN1', '23');
    const c = index.add(3, 'TIN123');
    const d = index.add(4, 'TIN', '123');
    expect(new Set([a, b, c, d]).size).toBe(4);
    expect(index.find(3, 'TIN', '123')).toBe(a);
    expect(index.find(3, 'TIN', '12')).toBe(-1);
    expect(index.first(a)).toBe('TIN');
    expect(index.first(c)).toBe('TIN123');
  });

  it('keeps non-ASCII keys exactly', () => {
    const index = new KeyIndex();
    const id = index.add(0, 'caf\u00e9\ud83d\ude00');
    expect(index.find(0, 'caf\u00e9\ud83d\ude00')).toBe(id);
    expect(index.first(id)).toBe('caf\u00e9\ud83d\ude00');
  });
});

describe('identifier index', () => {
  it('agrees with a plain map through random replacements, shared identifiers and duplicates', () => {
    const next = random(42);
    const index = new IdentifierIndex();
    const held = new Map<number, { country: number; keys: Set<string> }>();
    for (let step = 0; step < 20_000; step += 1) {
      const slot = next(3_000);
      const country = held.get(slot)?.country ?? next(3);
      const identifiers = Array.from({ length: next(4) }, () => ({
        scheme: next(2) === 0 ? 'TIN' : 'EORI',
        value: `V${next(500)}`,
      }));
      index.set(slot, country, identifiers);
      held.set(slot, { country, keys: new Set(identifiers.map((i) => `${i.scheme}|${i.value}`)) });
    }
    for (let country = 0; country < 3; country += 1) {
      for (const scheme of ['TIN', 'EORI']) {
        for (let v = 0; v < 500; v += 1) {
          const found: number[] = [];
          index.slots(country, scheme, `V${v}`, found);
          const expected = [...held]
            .filter(([, h]) => h.country === country && h.keys.has(`${scheme}|V${v}`))
            .map(([s]) => s);
          expect(found.sort((x, y) => x - y)).toEqual(expected.sort((x, y) => x - y));
        }
      }
    }
  });

  it('forgets an operator under identifiers it no longer has', () => {
    const index = new IdentifierIndex();
    index.set(0, 0, [{ scheme: 'TIN', value: 'A' }]);
    index.set(1, 0, [{ scheme: 'TIN', value: 'A' }]);
    index.set(0, 0, []);
    const found: number[] = [];
    index.slots(0, 'TIN', 'A', found);
    expect(found).toEqual([1]);
  });
});
