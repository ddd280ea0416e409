/** Every advisory lock of the gateway has a key of its own: a shared key makes unrelated work wait. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_CLASSES, LOCKS } from '../../src/store/locks.ts';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('advisory lock keys', () => {
  it('are distinct within each key space', () => {
    const one = Object.values(LOCKS);
    expect(new Set(one).size).toBe(one.length);
    const two = Object.values(LOCK_CLASSES);
    expect(new Set(two).size).toBe(two.length);
    for (const key of [...one, ...two]) expect(Number.isSafeInteger(key)).toBe(true);
  });

  it('are all defined in store/locks.ts: no other source writes a key as a number', () => {
    const stray = sources('src')
      .filter((f) => !f.endsWith(join('store', 'locks.ts')))
      .filter((f) => /(LOCK|LOCK_KEY|LOCK_CLASS)\s*=\s*\d/.test(readFileSync(f, 'utf8')));
    expect(stray).toEqual([]);
  });
});
