import { describe, expect, it } from 'vitest';
import {
  benefitsFor,
  effectiveFrom,
  notRecognisedReason,
  type RecognitionFacts,
  recognitionOf,
} from '../../src/mra/recognition.ts';
import type { Mra } from '../../src/mra/types.ts';

const mra: Mra = {
  id: 'CL-PE',
  inForceFrom: new Date('2020-01-01T00:00:00Z'),
  inForceUntil: new Date('2030-01-01T00:00:00Z'),
  status: 'in-force',
  programmes: new Set(['AEO-F']),
  roles: new Set(['exporter', 'manufacturer']),
  benefits: [
    { id: 'fewer-checks', description: 'fewer checks', roles: undefined },
    { id: 'priority', description: 'priority', roles: ['exporter', 'carrier'] },
    { id: 'carriers', description: 'carriers only', roles: ['carrier'] },
  ],
};
const at = new Date('2026-03-01T00:00:00Z');
const certified: RecognitionFacts = {
  status: 'certified',
  programme: 'AEO-F',
  roles: ['carrier', 'exporter'],
};

describe('the recognition rule', () => {
  it('gives the first failing check as the reason: version, status, MRA in force, scope', () => {
    expect(notRecognisedReason(mra, true, undefined)).toBe('unknown');
    // The operator's own status before the MRA: a revoked operator is revoked whatever the MRA.
    expect(notRecognisedReason(undefined, false, { ...certified, status: 'revoked' })).toBe('revoked');
    expect(notRecognisedReason(mra, true, { ...certified, status: 'suspended' })).toBe('suspended');
    expect(notRecognisedReason(undefined, true, certified)).toBe('mra-not-in-force');
    expect(notRecognisedReason(mra, false, { ...certified, programme: 'AEO-S' })).toBe('mra-not-in-force');
    expect(notRecognisedReason(mra, true, { ...certified, programme: 'AEO-S' })).toBe('out-of-scope');
    expect(notRecognisedReason(mra, true, { ...certified, roles: ['carrier'] })).toBe('out-of-scope');
    expect(notRecognisedReason(mra, true, certified)).toBeUndefined();
  });

  it('judges the MRA in force at the instant asked', () => {
    expect(recognitionOf(mra, certified, new Date('2030-01-01T00:00:00Z'))).toEqual({
      recognised: false,
      reason: 'mra-not-in-force',
    });
    expect(recognitionOf({ ...mra, status: 'suspended' }, certified, at)).toEqual({
      recognised: false,
      reason: 'mra-not-in-force',
    });
    expect(recognitionOf(mra, certified, at)).toMatchObject({ recognised: true });
  });

  it('applies benefits to the covered roles, narrowed to each benefit’s own, leaving out those that apply to none', () => {
    expect(benefitsFor(mra, certified.roles)).toEqual([
      { id: 'fewer-checks', description: 'fewer checks', roles: ['exporter'] },
      { id: 'priority', description: 'priority', roles: ['exporter'] },
    ]);
    expect(recognitionOf(mra, certified, at)).toEqual({
      recognised: true,
      benefits: benefitsFor(mra, certified.roles),
    });
  });

  it('puts a version in effect at the later of its statusSince and its receipt', () => {
    const t = (iso: string) => Date.parse(iso);
    expect(effectiveFrom('2026-02-01', t('2026-02-03T08:00:00Z'))).toBe(t('2026-02-03T08:00:00Z'));
    expect(effectiveFrom('2026-02-05', t('2026-02-03T08:00:00Z'))).toBe(t('2026-02-05T00:00:00Z'));
  });
});
