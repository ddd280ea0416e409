/**
 * The names the PostgreSQL store gives its statements (src/store/prepared.ts): one name per text, never one name
 * for two texts, and a bounded number of them, past which a statement runs unnamed; and the gateway's statements
 * name the columns they answer, which a prepared statement needs to outlive a migration.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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

describe("the gateway's statements", () => {
  it('name their result columns: no `*` of a table, no RETURNING *', () => {
    const files = readdirSync('src', { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join('src', f));
    expect(files.length).toBeGreaterThan(100);
    const found: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      // A subquery's `*` (after an opening parenthesis) or a set-returning function's is not a result column list.
      for (const m of text.matchAll(/(\(\s*)?SELECT \*\s+FROM\s+([A-Za-z_]+)(\s*\()?|RETURNING \*/g)) {
        if (m[0].startsWith('RETURNING') || (m[1] === undefined && m[3] === undefined && m[2] !== 'ROWS'))
          found.push(`${file}: ${m[0]}`);
      }
    }
    expect(found).toEqual([]);
  });
});
