/**
 * The parts of verification that decide without a database: which break is named first, and when an instant
 * PostgreSQL stored is the one a signed text states.
 */
import { describe, expect, it } from 'vitest';
import { Breaks } from '../../src/audit/breaks.ts';
import { sameInstant, sameJson } from '../../src/audit/record-check.ts';
import type { AuditBreak } from '../../src/audit/verify-chain.ts';

const at = (seq: number | null, table: string): AuditBreak => ({
  seq,
  kind: 'receipt-sent',
  subject: 's',
  table,
  problem: 'p',
});

describe('the first broken link', () => {
  it('is the lowest seq whatever the order found, counts every break, ranks rows without entry last', () => {
    const breaks = new Breaks();
    breaks.add(at(null, 'inserted'));
    breaks.add(at(9, 'late'));
    breaks.add(undefined);
    breaks.add(at(4, 'early'));
    breaks.add(at(4, 'same seq, found later'));
    breaks.addCounted(at(6, 'counted'), 5);
    expect(breaks.first?.table).toBe('early');
    expect(breaks.count).toBe(9);
  });

  it('names a row without entry when there is nothing else', () => {
    const breaks = new Breaks();
    breaks.addCounted(at(null, 'inserted'), 2);
    expect([breaks.first?.table, breaks.count]).toEqual(['inserted', 2]);
    const none = new Breaks();
    none.addCounted(undefined, 3);
    expect([none.first, none.count]).toEqual([undefined, 0]);
  });
});

describe('an instant stored against a signed one', () => {
  it.each([
    ['2026-05-01T12:00:00.123000Z', '2026-05-01T12:00:00.123Z', true],
    ['2026-05-01T12:00:00.000000Z', '2026-05-01T12:00:00Z', true],
    ['2026-05-01T12:00:00.123457Z', '2026-05-01T12:00:00.1234567Z', true],
    ['2026-05-01T12:00:00.123456Z', '2026-05-01T12:00:00.1234564Z', true],
    ['2026-05-01T12:00:00.123001Z', '2026-05-01T12:00:00.123Z', false],
    ['2026-05-01T12:00:01.123000Z', '2026-05-01T12:00:00.123Z', false],
    ['2026-05-01T12:00:00.123458Z', '2026-05-01T12:00:00.1234567Z', false],
    ['2026-05-01T12:00:00.123000Z', '2026-05-01T12:00:00.123+00:00', false],
  ])('%s is %s: %s', (stored, signed, same) => {
    expect(sameInstant(stored, signed)).toBe(same);
  });

  it('refuses what is not an instant', () => {
    expect(sameInstant(null, '2026-05-01T12:00:00Z')).toBe(false);
    expect(sameInstant('2026-05-01T12:00:00.000000Z', 1_777_000_000)).toBe(false);
  });

  it('compares JSON as canonical text, whatever the member order', () => {
    expect(sameJson({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toBe(true);
    expect(sameJson({ a: 1 }, { a: 2 })).toBe(false);
    expect(sameJson(null, undefined)).toBe(true);
  });
});
