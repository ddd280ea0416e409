import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeBase64Strict,
  decodeBase64urlStrict,
  encodeBase64,
  encodeBase64url,
} from '../../src/crypto/base64url.ts';

/** An independent reading of "canonical", written from RFC 4648 rather than from the round trip. */
function referenceCanonical(s: string, alphabet: 'url' | 'std'): boolean {
  const chars =
    alphabet === 'url'
      ? 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
      : 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let body = s;
  if (alphabet === 'std') {
    if (s.length % 4 !== 0) return false;
    body = s.replace(/={1,2}$/, '');
  }
  const leftover = body.length % 4;
  if (leftover === 1) return false;
  if (alphabet === 'std' && leftover !== 0 && body.length + (4 - leftover) !== s.length) return false;
  if (alphabet === 'std' && leftover === 0 && body.length !== s.length) return false;
  for (const c of body) if (!chars.includes(c)) return false;
  if (leftover === 0) return true;
  const last = chars.indexOf(body.at(-1) ?? '');
  return (last & (leftover === 2 ? 0x0f : 0x03)) === 0;
}

describe('decodeBase64urlStrict', () => {
  it('round-trips every length from 0 to 64 bytes', () => {
    for (let n = 0; n <= 64; n++) {
      const bytes = randomBytes(n);
      const decoded = decodeBase64urlStrict(encodeBase64url(bytes));
      expect(decoded && Buffer.from(decoded).equals(bytes)).toBe(true);
    }
  });

  it.each([
    ['padding', 'Zm9v=='],
    ['single padding', 'Zm9vYg='],
    ['plus', 'a+b_'],
    ['slash', 'a/b_'],
    ['space', 'Zm9v YmFy'],
    ['tab', 'Zm9v\tYmFy'],
    ['newline', 'Zm9v\nYmFy'],
    ['trailing newline', 'Zm9vYmFy\n'],
    ['question mark', 'Zm9v?'],
    ['hash', 'Zm9v#'],
    ['dot', 'Zm.9v'],
    ['length mod 4 = 1', 'Zm9vY'],
    ['non-canonical last char (2 leftover)', 'Zh'],
    ['non-canonical last char (3 leftover)', 'Zm9'],
    ['non-ASCII', 'Zm9vé'],
    ['full-width letter', 'Zm9vＡ'],
  ])('refuses %s', (_name, input) => {
    expect(decodeBase64urlStrict(input)).toBeNull();
  });

  it('accepts the canonical spellings next to the refused ones', () => {
    expect(decodeBase64urlStrict('Zg')).toEqual(new Uint8Array([0x66]));
    expect(decodeBase64urlStrict('Zm8')).toEqual(new Uint8Array([0x66, 0x6f]));
    expect(decodeBase64urlStrict('')).toEqual(new Uint8Array(0));
  });

  it('returns bytes that own their buffer (no view on a shared pool)', () => {
    const decoded = decodeBase64urlStrict('Zm9vYmFy');
    expect(decoded?.byteOffset).toBe(0);
    expect(decoded?.buffer.byteLength).toBe(6);
  });

  it('agrees with an independent reference on 20,000 random near-base64url strings', () => {
    const alphabet = 'AQgw_-9+/= \n.é';
    for (let i = 0; i < 20_000; i++) {
      let s = '';
      const length = i % 9;
      for (let j = 0; j < length; j++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
      expect(decodeBase64urlStrict(s) !== null, JSON.stringify(s)).toBe(referenceCanonical(s, 'url'));
    }
  });

  it('decodes a 1 MiB hostile string in bounded time', () => {
    const started = performance.now();
    expect(decodeBase64urlStrict(`${'A'.repeat(1024 * 1024)} `)).toBeNull();
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('decodeBase64Strict', () => {
  it('round-trips every length from 0 to 64 bytes', () => {
    for (let n = 0; n <= 64; n++) {
      const bytes = randomBytes(n);
      const decoded = decodeBase64Strict(encodeBase64(bytes));
      expect(decoded && Buffer.from(decoded).equals(bytes)).toBe(true);
    }
  });

  it.each([
    ['missing padding', 'Zm9vYg'],
    ['excess padding', 'Zm9vYg==='],
    ['padding in the middle', 'Zg==Zm9v'],
    ['base64url minus', 'ab-_'],
    ['base64url underscore', 'ab_A'],
    ['line break (PEM body)', 'MIIB\nMIIB'],
    ['CRLF', 'MIIB\r\nMIIB'],
    ['space', 'MIIB MII'],
    ['PEM armour', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----'],
    ['non-canonical bits before ==', 'Zh=='],
    ['non-canonical bits before =', 'Zm9='],
  ])('refuses %s', (_name, input) => {
    expect(decodeBase64Strict(input)).toBeNull();
  });

  it('agrees with an independent reference on 20,000 random near-base64 strings', () => {
    const alphabet = 'AQgw+/=_- \n9';
    for (let i = 0; i < 20_000; i++) {
      let s = '';
      const length = i % 13;
      for (let j = 0; j < length; j++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
      expect(decodeBase64Strict(s) !== null, JSON.stringify(s)).toBe(referenceCanonical(s, 'std'));
    }
  });
});
