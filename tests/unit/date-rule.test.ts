/**
 * The one date rule (docs/protocol.md: years 1900 to 9999, real calendar days) as every schema applies it, and the
 * property that gives it its reason: whatever it accepts, PostgreSQL holds and Date reads back unchanged.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isProtocolDate, isProtocolDateTime, validateAgainst } from '../../src/validation.ts';
import { openTestStore } from '../support/gateway.ts';
import { freshRecord } from '../support/records.ts';

describe('dates', () => {
  it('accepts real days from 1900 to 9999 only', () => {
    const good = ['1900-01-01', '9999-12-31', '2024-02-29', '2000-02-29', '2026-04-30'];
    const bad = [
      '0000-01-01',
      '0001-01-01',
      '1899-12-31',
      '10000-01-01',
      '2023-02-29',
      '1900-02-29',
      '2026-04-31',
      '2026-00-10',
      '2026-13-01',
      '2026-01-00',
      '2026-1-01',
      '２０２６-01-01',
      '2026-01-01 ',
      '+2026-01-01',
    ];
    for (const d of good) expect(isProtocolDate(d), d).toBe(true);
    for (const d of bad) expect(isProtocolDate(d), d).toBe(false);
  });

  it('accepts RFC 3339 timestamps in range, refusing what Date or PostgreSQL would misread', () => {
    const good = [
      '1900-01-01T00:00:00Z',
      '9999-12-31T23:59:59.999999999Z',
      '2026-06-01T12:00:00+14:00',
      '2026-06-01T12:00:00-12:00',
    ];
    const bad = [
      '0000-01-01T00:00:00Z',
      '1900-01-01T00:30:00+01:00',
      '9999-12-31T23:30:00-01:00',
      '2026-02-30T00:00:00Z',
      '2026-12-31T23:59:60Z',
      '2026-01-01T24:00:00Z',
      '2026-01-01T00:60:00Z',
      '2026-01-01t00:00:00z',
      '2026-01-01T00:00:00',
      '2026-01-01T00:00:00+16:00',
      '2026-01-01T00:00:00.Z',
      '2026-01-01T00:00:00.1234567890Z',
    ];
    for (const t of good) expect(isProtocolDateTime(t), t).toBe(true);
    for (const t of bad) expect(isProtocolDateTime(t), t).toBe(false);
  });

  it('is the rule of every schema with a date: record, decision, configuration', () => {
    const record = freshRecord('PE');
    for (const member of ['statusSince', 'certifiedOn', 'lastValidatedOn'] as const) {
      const result = validateAgainst('aeo-status-1', { ...record, [member]: '0000-01-01' });
      expect(result.ok, member).toBe(false);
      if (!result.ok) expect(result.errors.join(), member).toMatch(new RegExp(`/${member}`));
    }
    expect(validateAgainst('aeo-status-1', { ...record, issuedAt: '0000-01-01T00:00:00Z' }).ok).toBe(false);
    const decision = {
      decisionId: crypto.randomUUID(),
      aeoId: 'PE1234',
      decision: 'suspend',
      suspendedUntil: '0000-12-31',
    };
    const refused = validateAgainst('decision', decision);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.errors.join()).toMatch(/\/suspendedUntil/);
    expect(validateAgainst('decision', { ...decision, suspendedUntil: '2030-12-31' }).ok).toBe(true);
    const token = { iss: 'PE', aud: 'CL', iat: 253402300800, exp: 253402300900, jti: 'a'.repeat(16) };
    expect(validateAgainst('mra-request-1', token).ok).toBe(false);
  });

  it('holds: every date or timestamp it accepts is stored by PostgreSQL and read back the same', async () => {
    const day = fc
      .record({
        y: fc.oneof(fc.integer({ min: 0, max: 10_050 }), fc.constantFrom(0, 1, 1899, 1900, 9999, 10_000)),
        m: fc.integer({ min: 0, max: 13 }),
        d: fc.integer({ min: 0, max: 32 }),
      })
      .map(
        ({ y, m, d }) =>
          `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`,
      );
    const instant = fc
      .record({
        day,
        h: fc.integer({ min: 0, max: 25 }),
        offset: fc.constantFrom('Z', '+14:00', '-12:00', '+01:00', '-01:00', '+15:00'),
      })
      .map(({ day: d, h, offset }) => `${d}T${String(h).padStart(2, '0')}:59:59${offset}`);
    const dates = fc.sample(day, 300).filter(isProtocolDate);
    const instants = fc.sample(instant, 300).filter(isProtocolDateTime);
    dates.push('1900-01-01', '9999-12-31');
    instants.push('1900-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '9999-12-31T23:59:59.999Z');
    expect(dates.length).toBeGreaterThan(10);
    expect(instants.length).toBeGreaterThan(10);
    const { store, dispose } = await openTestStore('postgres');
    try {
      const rows = await store.query<{ d: string; t: string }>(
        `SELECT to_char(d::date, 'YYYY-MM-DD') AS d FROM jsonb_array_elements_text($1::jsonb) AS d`,
        [JSON.stringify(dates)],
      );
      expect(rows.map((r) => r.d)).toEqual(dates);
      const times = await store.query<{ ms: string }>(
        `SELECT (extract(epoch FROM t::timestamptz) * 1000)::bigint::text AS ms
           FROM jsonb_array_elements_text($1::jsonb) AS t`,
        [JSON.stringify(instants)],
      );
      // Milliseconds, as Date holds them (PostgreSQL rounds sub-millisecond digits; Date truncates them).
      for (const [i, t] of instants.entries()) {
        expect(Math.abs(Number(times[i]!.ms) - new Date(t).getTime()), t).toBeLessThanOrEqual(1);
        expect(new Date(t).toISOString()).toMatch(/^\d{4}-/);
      }
    } finally {
      await dispose();
    }
  });
});
