import { describe, expect, it } from 'vitest';
import { sampleRecord } from '../../src/cli/samples.ts';
import { checkMraRules } from '../../src/inbound/mra-rules.ts';
import { mraInForce } from '../../src/mra/scope.ts';
import type { Mra, Partner } from '../../src/mra/types.ts';

const now = new Date('2026-11-22T12:00:00Z');
const rec = (overrides: Parameters<typeof sampleRecord>[2] = {}) =>
  sampleRecord('CL', 1, { issuedAt: now.toISOString(), ...overrides });

function partner(mra: Partial<Mra> = {}): Partner {
  return {
    adminId: 'CL',
    name: undefined,
    endpoint: 'https://cl.example/mra/v1',
    trust: { adminId: 'CL', anchors: [], revokedFingerprints: new Set() },
    intermediates: [],
    mra: {
      id: 'CL-PE',
      inForceFrom: new Date('2020-01-01T00:00:00Z'),
      inForceUntil: undefined,
      status: 'in-force',
      programmes: new Set(['AEO-S', 'AEO-F']),
      roles: new Set(['exporter', 'importer']),
      benefits: [],
      ...mra,
    },
  };
}

function code(record = rec(), p = partner(), sender: string | null = 'CL') {
  const r = checkMraRules(record, { signer: p, sender, now });
  return r.ok ? 'ok' : r.code;
}

describe('MRA rules', () => {
  it('accepts a record of the partner, in force and in scope', () => {
    expect(code()).toBe('ok');
  });

  it('refuses an issuer other than the signer or the sender (docs/threats.md 41, 2)', () => {
    expect(code(sampleRecord('PE', 1))).toBe('ISSUER_MISMATCH');
    expect(code(rec(), partner(), 'AR')).toBe('ISSUER_MISMATCH');
  });

  it('knows when an MRA is in force (49)', () => {
    expect(mraInForce(partner().mra, now)).toBe(true);
    expect(code(undefined, partner({ inForceFrom: new Date('2027-01-01T00:00:00Z') }))).toBe(
      'NO_MRA_IN_FORCE',
    );
    expect(code(undefined, partner({ inForceUntil: new Date('2026-11-22T00:00:00Z') }))).toBe(
      'NO_MRA_IN_FORCE',
    );
    expect(code(undefined, partner({ status: 'suspended' }))).toBe('NO_MRA_IN_FORCE');
    expect(code(undefined, partner({ status: 'terminated' }))).toBe('NO_MRA_IN_FORCE');
  });

  it('refuses a programme or roles outside the scope (49)', () => {
    expect(code(rec({ programme: 'AEO-C' }))).toBe('OUT_OF_SCOPE');
    const carrier = rec();
    carrier.operator.roles = ['carrier'];
    expect(code(carrier)).toBe('OUT_OF_SCOPE');
    const mixed = rec();
    mixed.operator.roles = ['carrier', 'exporter'];
    expect(code(mixed)).toBe('ok');
  });

  it('allows 5 minutes of clock skew and no more (48)', () => {
    const at = (ms: number) =>
      sampleRecord('CL', 1, { issuedAt: new Date(now.getTime() + ms).toISOString() });
    expect(code(at(4 * 60_000))).toBe('ok');
    expect(code(at(5 * 60_000))).toBe('ok');
    expect(code(at(5 * 60_000 + 1))).toBe('ISSUED_IN_FUTURE');
    expect(code(at(10 * 60_000))).toBe('ISSUED_IN_FUTURE');
  });
});
