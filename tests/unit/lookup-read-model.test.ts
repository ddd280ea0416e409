import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAnswerer } from '../../src/lookup/answer.ts';
import { parseChange } from '../../src/lookup/change-message.ts';
import { ReadModel, type VersionInput } from '../../src/lookup/read-model.ts';
import { effectiveFrom } from '../../src/mra/recognition.ts';
import type { Mra, Partner } from '../../src/mra/types.ts';

const DIGEST = Buffer.alloc(32, 7).toString('base64url');
const t = (iso: string) => Date.parse(iso);

function version(n: number, overrides: Partial<VersionInput> = {}): VersionInput {
  return {
    issuer: 'CL',
    aeoId: 'CLAEO1',
    version: n,
    recordId: randomUUID(),
    digest: DIGEST,
    status: 'certified',
    statusSince: '2025-01-01',
    programme: 'AEO-F',
    roles: ['exporter', 'manufacturer'],
    receivedAt: t('2026-01-01T10:00:00Z'),
    ...overrides,
  };
}

const MRA: Mra = {
  id: 'CL-PE',
  inForceFrom: new Date('2020-01-01T00:00:00Z'),
  inForceUntil: new Date('2030-01-01T00:00:00Z'),
  status: 'in-force',
  programmes: new Set(['AEO-F', 'AEO-S']),
  roles: new Set(['exporter', 'importer']),
  benefits: [
    { id: 'fewer-checks', description: 'Fewer checks', roles: undefined },
    { id: 'export-lane', description: 'Export lane', roles: ['exporter'] },
    { id: 'import-lane', description: 'Import lane', roles: ['importer'] },
  ],
};
const partner = (mra: Partial<Mra> = {}): Partner =>
  ({ adminId: 'CL', name: 'CL', endpoint: 'x', trust: {}, mra: { ...MRA, ...mra } }) as unknown as Partner;

describe('read model: as-of over a history', () => {
  const model = new ReadModel();
  const v1 = version(1, { receivedAt: t('2026-01-01T10:00:00Z') });
  const v2 = version(2, {
    status: 'suspended',
    statusSince: '2026-02-01',
    receivedAt: t('2026-02-01T09:30:00Z'),
  });
  const v3 = version(3, { statusSince: '2026-03-10', receivedAt: t('2026-03-05T12:00:00Z') });
  // Received out of order (a late event); it must land in its place.
  for (const v of [v1, v3, v2]) expect(model.apply(v)).toBe(true);
  const slot = model.find('CL', 'CLAEO1')!;

  it('keeps every version once, highest first, and reads them back exactly', () => {
    expect(model.apply(v2)).toBe(false);
    const history = model.history(slot);
    expect(history.map((h) => h.version)).toEqual([3, 2, 1]);
    expect(history[1]).toEqual({ ...v2, roles: ['manufacturer', 'exporter'] });
    expect(model.latestVersion(slot)).toBe(3);
    expect(model.lastChangeAt).toBe(v3.receivedAt);
  });

  it('answers with the version in effect at each boundary', () => {
    const at = (iso: string) => model.versionAt(slot, t(iso))?.version;
    expect(at('2026-01-01T09:59:59.999Z')).toBeUndefined();
    expect(at('2026-01-01T10:00:00.000Z')).toBe(1);
    expect(at('2026-02-01T09:29:59.999Z')).toBe(1);
    expect(at('2026-02-01T09:30:00.000Z')).toBe(2);
    // Received on the 5th but in force from the 10th: the suspension still holds until then.
    expect(at('2026-03-09T23:59:59.999Z')).toBe(2);
    expect(at('2026-03-10T00:00:00.000Z')).toBe(3);
  });

  it('starts a version at the later of statusSince and its receipt', () => {
    expect(effectiveFrom('2026-02-01', t('2026-02-03T08:00:00Z'))).toBe(t('2026-02-03T08:00:00Z'));
    expect(effectiveFrom('2026-02-05', t('2026-02-03T08:00:00Z'))).toBe(t('2026-02-05T00:00:00Z'));
  });

  it('indexes identifiers by issuing country and replaces them', () => {
    model.setIdentifiers('CL', 'CLAEO1', [{ scheme: 'TIN', value: 'T1' }]);
    expect(model.findByIdentifier('TIN', 'T1', 'CL')).toEqual([slot]);
    expect(model.findByIdentifier('TIN', 'T1', undefined)).toEqual([slot]);
    expect(model.findByIdentifier('TIN', 'T1', 'PE')).toEqual([]);
    model.setIdentifiers('CL', 'CLAEO1', [{ scheme: 'TIN', value: 'T2' }]);
    expect(model.findByIdentifier('TIN', 'T1', 'CL')).toEqual([]);
    expect(model.findByIdentifier('TIN', 'T2', 'CL')).toEqual([slot]);
  });
});

describe('answers: every reason and the benefits for the roles in scope', () => {
  const at = new Date('2026-06-01T00:00:00Z');
  function answer(v: Partial<VersionInput>, mra: Partial<Mra> = {}) {
    const model = new ReadModel();
    model.apply(version(1, v));
    model.sawPartner('CL', t('2026-05-31T00:00:00Z'));
    return createAnswerer(model, [partner(mra)]).answer({ issuer: 'CL', aeoId: 'CLAEO1' }, at);
  }

  it('recognises a certified operator in scope, with the benefits of its covered roles', () => {
    const a = answer({});
    expect(a.recognised).toBe(true);
    expect(a.reason).toBeUndefined();
    expect(a.benefits).toEqual([
      { id: 'fewer-checks', description: 'Fewer checks', roles: ['exporter'] },
      { id: 'export-lane', description: 'Export lane', roles: ['exporter'] },
    ]);
    expect(a.mra).toEqual({ id: 'CL-PE', partner: 'CL', status: 'in-force', inForce: true });
    expect(a.freshness.partnerLastReceivedAt).toBe('2026-05-31T00:00:00.000Z');
    expect(a.evidence?.digest).toBe(DIGEST);
  });

  it('gives each reason, in the documented order', () => {
    const model = new ReadModel();
    const none = createAnswerer(model, [partner()]).answer({ issuer: 'CL', aeoId: 'CLAEO9' }, at);
    expect(none).toMatchObject({ recognised: false, reason: 'unknown', benefits: [] });
    expect(answer({ status: 'suspended' }).reason).toBe('suspended');
    expect(answer({ status: 'revoked' }).reason).toBe('revoked');
    expect(answer({ status: 'withdrawn' }).reason).toBe('withdrawn');
    expect(answer({}, { status: 'suspended' }).reason).toBe('mra-not-in-force');
    expect(answer({}, { inForceUntil: new Date('2026-05-01T00:00:00Z') }).reason).toBe('mra-not-in-force');
    expect(answer({ status: 'revoked' }, { status: 'suspended' }).reason).toBe('revoked');
    expect(answer({ programme: 'AEO-C' }).reason).toBe('out-of-scope');
    expect(answer({ roles: ['carrier'] }).reason).toBe('out-of-scope');
    expect(answer({ receivedAt: t('2026-07-01T00:00:00Z') }).reason).toBe('unknown');
  });

  it('answers by identifier: a shared one names every match and recognises none (docs/threats.md 74)', () => {
    const model = new ReadModel();
    model.apply(version(1, { aeoId: 'CLAEO1', status: 'revoked' }));
    model.apply(version(1, { aeoId: 'CLAEO2' }));
    model.setIdentifiers('CL', 'CLAEO1', [{ scheme: 'EORI', value: 'X1' }]);
    model.setIdentifiers('CL', 'CLAEO2', [{ scheme: 'EORI', value: 'X1' }]);
    const a = createAnswerer(model, [partner()]).answer({ scheme: 'EORI', value: 'X1' }, at);
    expect(a.operator).toBeUndefined();
    expect(a).toMatchObject({ recognised: false, reason: 'ambiguous-identifier' });
    expect(a.matches?.map((m) => [m.aeoId, m.status])).toEqual([
      ['CLAEO1', 'revoked'],
      ['CLAEO2', 'certified'],
    ]);
  });
});

describe('change events from Redis are checked before use', () => {
  const good = {
    sender: 'CL',
    receivedAt: 1,
    changes: [{ ...version(1), roles: ['exporter'], identifiers: [{ scheme: 'TIN', value: 'A' }] }],
  };
  it('accepts a well-formed event and refuses malformed ones', () => {
    expect(parseChange(JSON.stringify(good))?.changes[0]?.aeoId).toBe('CLAEO1');
    expect(parseChange('not json')).toBeUndefined();
    expect(parseChange(JSON.stringify({ ...good, receivedAt: -1 }))).toBeUndefined();
    const bad = (c: Record<string, unknown>) =>
      parseChange(JSON.stringify({ ...good, changes: [{ ...good.changes[0], ...c }] }));
    expect(bad({ status: 'lost' })).toBeUndefined();
    expect(bad({ roles: ['pirate'] })).toBeUndefined();
    expect(bad({ recordId: 'x' })).toBeUndefined();
    expect(bad({ digest: 'short' })).toBeUndefined();
  });
});

describe('read model: which versions it holds', () => {
  it('holds the versions applied, in any order, and no other', () => {
    const model = new ReadModel();
    expect(model.holds('CL', 'CLAEO1', 1)).toBe(false);
    model.apply(version(3));
    model.apply(version(1));
    expect([1, 2, 3, 4].map((n) => model.holds('CL', 'CLAEO1', n))).toEqual([true, false, true, false]);
    expect(model.holds('CL', 'CLAEO2', 1)).toBe(false);
    expect(model.holds('PE', 'CLAEO1', 1)).toBe(false);
    model.apply(version(2));
    expect([1, 2, 3].every((n) => model.holds('CL', 'CLAEO1', n))).toBe(true);
  });
});
