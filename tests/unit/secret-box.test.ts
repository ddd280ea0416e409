/**
 * Webhook secrets at rest: AES-256-GCM under configured keys, the first sealing and every one opening (key
 * rotation), each value bound to its row and refused when altered, moved or sealed under a key that is gone.
 */
import { createSecretKey, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/crypto/secret-box.ts';
import { GatewayError } from '../../src/errors.ts';
import { createSecretVault } from '../../src/notifications/secrets.ts';
import { FAILURE_CLASSES } from '../../src/notifications/webhook-post.ts';

const key = (id: string) => ({ id, key: createSecretKey(randomBytes(32)) });
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

describe('the secret box', () => {
  it('seals under the first key, never as the plaintext, and opens in its context only', () => {
    const box = createSecretBox([key('k1')]);
    const a = box.seal(SECRET, 'row/a');
    const b = box.seal(SECRET, 'row/a');
    expect(a.keyId).toBe('k1');
    expect(a.data).not.toContain(SECRET);
    expect(Buffer.from(a.data, 'base64url').toString('latin1')).not.toContain(SECRET.slice(6, 20));
    expect(a.data).not.toBe(b.data); // a fresh IV each time
    expect(box.open(a, 'row/a')).toBe(SECRET);
    expect(() => box.open(a, 'row/b')).toThrow(GatewayError);
  });

  it('refuses a value altered by one bit, or truncated', () => {
    const box = createSecretBox([key('k1')]);
    const sealed = box.seal(SECRET, 'row/a');
    const raw = Buffer.from(sealed.data, 'base64url');
    for (const at of [0, 12, raw.length - 1]) {
      const bad = Buffer.from(raw);
      bad[at]! ^= 1;
      expect(() => box.open({ keyId: 'k1', data: bad.toString('base64url') }, 'row/a')).toThrow(
        /does not open/,
      );
    }
    expect(() =>
      box.open({ keyId: 'k1', data: raw.subarray(0, 20).toString('base64url') }, 'row/a'),
    ).toThrow();
  });

  it('rotates: the new first key seals, the old one still opens, a removed one is named', () => {
    const k1 = key('k1');
    const k2 = key('k2');
    const old = createSecretBox([k1]).seal(SECRET, 'row/a');
    const rotated = createSecretBox([k2, k1]);
    expect(rotated.open(old, 'row/a')).toBe(SECRET);
    expect(rotated.seal(SECRET, 'row/a').keyId).toBe('k2');
    // A key id is bound too: the same bytes claimed under another configured key do not open.
    expect(() => rotated.open({ keyId: 'k2', data: old.data }, 'row/a')).toThrow();
    expect(() => createSecretBox([k2]).open(old, 'row/a')).toThrow(/key k1, which is not configured/);
  });

  it('takes only 32-byte keys', () => {
    expect(() => createSecretBox([{ id: 'short', key: createSecretKey(randomBytes(16)) }])).toThrow(
      /32 bytes/,
    );
    expect(() => createSecretBox([])).toThrow(GatewayError);
  });
});

describe('the secret vault', () => {
  it('without keys creates nothing (WEBHOOK_KEY_MISSING) and reads secrets stored as issued', () => {
    const vault = createSecretVault({ secretKeys: [] });
    expect(() => vault.seal('s1', SECRET)).toThrow(expect.objectContaining({ code: 'WEBHOOK_KEY_MISSING' }));
    expect(vault.open('s1', { secret: SECRET, keyId: null })).toBe(SECRET);
  });

  it('binds a sealed secret to its subscription', () => {
    const vault = createSecretVault({ secretKeys: [key('k1')] });
    const stored = vault.seal('s1', SECRET);
    expect(vault.open('s1', stored)).toBe(SECRET);
    expect(() => vault.open('s2', stored)).toThrow(GatewayError);
  });
});

describe('the failure classes', () => {
  it('are the ones the table admits, and nothing else', () => {
    const sql = readFileSync(
      new URL('../../src/store/migrations/009_webhook_secrets.sql', import.meta.url),
      'utf8',
    );
    const admitted = /last_error IN \(([^)]*)\)/.exec(sql)?.[1]?.match(/'[^']+'/g) ?? [];
    expect(admitted.map((s) => s.slice(1, -1))).toEqual([...FAILURE_CLASSES]);
  });
});
