/**
 * docs/threats.md 77: what stands at the lock's path when it is not a lock file this gateway wrote (a directory, a
 * symbolic link, dangling or not) is never read through nor taken over: the start is refused, saying what is
 * there and what to do.
 */
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import { LOCK_FILE, lockDataDir } from '../../src/store/data-dir-lock.ts';

const root = mkdtempSync(join(tmpdir(), 'mra-lock-kinds-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function folder(): string {
  const dir = join(root, `d${n++}`);
  mkdirSync(dir);
  return dir;
}

function refusal(dir: string): GatewayError {
  try {
    lockDataDir(dir).release();
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('the lock was taken');
}

describe('the lock path holding', () => {
  it('a directory is refused as not a lock file', () => {
    const dir = folder();
    mkdirSync(join(dir, LOCK_FILE));
    const error = refusal(dir);
    expect(error.code).toBe('STORE_LOCKED');
    expect(error.message).toMatch(/not a regular file \(a directory\).*remove it/);
  });

  it('a dangling symbolic link is refused as not a lock file, and left as it is', () => {
    const dir = folder();
    const target = join(root, 'nowhere');
    symlinkSync(target, join(dir, LOCK_FILE));
    const error = refusal(dir);
    expect(error.code).toBe('STORE_LOCKED');
    expect(error.message).toMatch(/not a regular file \(a symbolic link\)/);
    expect(readlinkSync(join(dir, LOCK_FILE))).toBe(target);
  });

  it('a symbolic link to a stale-looking lock elsewhere is refused, not taken over through the link', () => {
    const dir = folder();
    const elsewhere = join(root, 'other.lock');
    writeFileSync(elsewhere, `${JSON.stringify({ pid: 2 ** 30, hostname: 'x', startedAt: 'y' })}\n`);
    symlinkSync(elsewhere, join(dir, LOCK_FILE));
    const error = refusal(dir);
    expect(error.code).toBe('STORE_LOCKED');
    expect(error.message).toMatch(/symbolic link/);
    expect(readlinkSync(join(dir, LOCK_FILE))).toBe(elsewhere);
  });
});
