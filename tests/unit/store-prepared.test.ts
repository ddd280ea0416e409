/**
 * The names the PostgreSQL store gives its statements (src/store/prepared.ts): one name per text, never one name
 * for two texts, and a bounded number of them, past which a statement runs unnamed.
 */
import { describe, expect, it } from 'vitest';
import { createStatementNamer, MAX_NAMED_STATEMENTS } from '../../src/store/prepared.ts';

describe('statement names', () => {
  it('gives a text the same name every time, and each text its own', () => {
    const nameOf = createStatementNamer();
    const a = nameOf('SELECT 1 WHERE $1::int > 0');
    const b = nameOf('SELECT 2 WHERE $1::int > 0');
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    expect(a).not.toBe(b);
    expect(nameOf('SELECT 1 WHERE $1::int > 0')).toBe(a);
  });

  it('names no more texts than its bound; those it named keep their names', () => {
    const nameOf = createStatementNamer(3);
    const names = ['a', 'b', 'c'].map((t) => nameOf(`SELECT '${t}'`));
    expect(new Set(names).size).toBe(3);
    expect(nameOf("SELECT 'd'")).toBeUndefined();
    expect(nameOf("SELECT 'b'")).toBe(names[1]);
  });

  it('bounds a pool by default', () => {
    const nameOf = createStatementNamer();
    for (let i = 0; i < MAX_NAMED_STATEMENTS; i++) expect(nameOf(`SELECT ${i}`)).toBeDefined();
    expect(nameOf('SELECT -1')).toBeUndefined();
  });
});
