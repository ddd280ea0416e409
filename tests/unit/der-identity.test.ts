/** der.ts readers that revocation depends on: one key per serial number value, strict DER times. */
import { describe, expect, it } from 'vitest';
import { DerError, decodeDer, decodeTime, integerKey } from '../../src/crypto/der.ts';

const el = (...bytes: number[]) => decodeDer(Uint8Array.from(bytes));
const text = (tag: number, s: string) => el(tag, s.length, ...Buffer.from(s, 'latin1'));

describe('integerKey', () => {
  it('gives one key per value, however the INTEGER is padded', () => {
    expect(integerKey(el(0x02, 0x01, 0x05))).toBe('5');
    expect(integerKey(el(0x02, 0x02, 0x00, 0x05))).toBe('5');
    expect(integerKey(el(0x02, 0x02, 0x00, 0x80))).toBe('80');
    expect(integerKey(el(0x02, 0x01, 0xff))).toBe('-1');
    expect(integerKey(el(0x02, 0x02, 0xff, 0xff))).toBe('-1');
    expect(integerKey(el(0x02, 0x01, 0x80))).toBe('-80');
    expect(() => integerKey(el(0x02, 0x00))).toThrow(DerError);
    expect(() => integerKey(el(0x04, 0x01, 0x05))).toThrow(DerError);
  });
});

describe('decodeTime', () => {
  it('reads UTCTime (1950 to 2049) and GeneralizedTime, seconds and Z required', () => {
    expect(decodeTime(text(0x17, '260601120000Z'), 't').toISOString()).toBe('2026-06-01T12:00:00.000Z');
    expect(decodeTime(text(0x17, '500101000000Z'), 't').toISOString()).toBe('1950-01-01T00:00:00.000Z');
    expect(decodeTime(text(0x18, '20500101000000Z'), 't').toISOString()).toBe('2050-01-01T00:00:00.000Z');
    for (const bad of [
      '2606011200Z',
      '260601120000',
      '260601120000+0100',
      '260231120000Z',
      '260601250000Z',
    ]) {
      expect(() => decodeTime(text(0x17, bad), 't'), bad).toThrow(DerError);
    }
    expect(() => decodeTime(text(0x18, '20260601120000.5Z'), 't')).toThrow(DerError);
    expect(() => decodeTime(text(0x0c, '260601120000Z'), 't')).toThrow(/not a time/);
  });
});
