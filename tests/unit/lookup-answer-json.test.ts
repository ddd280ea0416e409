import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { createAnswerer, type OperatorQuery } from '../../src/lookup/answer.ts';
import { answerSchema } from '../../src/lookup/answer-schema.ts';
import { ReadModel, type VersionInput } from '../../src/lookup/read-model.ts';
import type { Mra, Partner } from '../../src/mra/types.ts';

const t = (iso: string) => Date.parse(iso);
const DIGEST = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7)).toString('base64url');
const RECORD_ID = '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0ff';

const MRA: Mra = {
  id: 'CL-PE "2020"',
  inForceFrom: new Date('2020-01-01T00:00:00Z'),
  inForceUntil: undefined,
  status: 'in-force',
  programmes: new Set(['AEO-F', 'AEO-S']),
  roles: new Set(['exporter', 'importer']),
  benefits: [
    { id: 'fewer-checks', description: 'Fewer checks, "green" lane \u00e9', roles: undefined },
    { id: 'import-lane', description: 'Import lane', roles: ['importer'] },
  ],
};
const partners = [
  { adminId: 'CL', mra: MRA },
  { adminId: 'AR', mra: { ...MRA, status: 'suspended' } },
].map((p) => ({ ...p, name: p.adminId, endpoint: 'x', trust: {} }) as unknown as Partner);

function version(aeoId: string, overrides: Partial<VersionInput> = {}): VersionInput {
  return {
    issuer: 'CL',
    aeoId,
    version: 4,
    recordId: RECORD_ID,
    digest: DIGEST,
    status: 'certified',
    statusSince: '2025-02-28',
    programme: 'AEO-F',
    roles: ['manufacturer', 'importer', 'exporter'],
    receivedAt: t('2026-01-01T10:00:00.123Z'),
    ...overrides,
  };
}

const model = new ReadModel();
model.apply(version('CLAEO1'));
model.apply(version('CLAEO2', { status: 'suspended' }));
model.apply(version('CLAEO3', { programme: 'AEO-C' }));
model.apply(version('ARAEO1', { issuer: 'AR' }));
model.setIdentifiers('CL', 'CLAEO1', [{ scheme: 'TIN', value: 'T1' }]);
model.sawPartner('CL', t('2026-05-31T00:00:00Z'));
const answerer = createAnswerer(model, partners);
const at = new Date('2026-06-01T12:00:00Z');
const validate = new Ajv({ strict: true, allErrors: true }).compile(answerSchema);

const queries: OperatorQuery[] = [
  { issuer: 'CL', aeoId: 'CLAEO1' },
  { issuer: 'CL', aeoId: 'CLAEO2' },
  { issuer: 'CL', aeoId: 'CLAEO3' },
  { issuer: 'AR', aeoId: 'ARAEO1' },
  { issuer: 'CL', aeoId: 'NOBODY' },
  { issuer: 'ZZ', aeoId: 'NOBODY' },
  { scheme: 'TIN', value: 'T1' },
  { scheme: 'TIN', value: 'T1', country: 'CL' },
  { scheme: 'TIN', value: 'NONE', country: 'AR' },
];

describe('answers written as JSON text', () => {
  it('writes the complete answer for a recognised operator', () => {
    expect(JSON.parse(answerer.answerJson(queries[0]!, at).toString())).toEqual({
      query: { issuer: 'CL', aeoId: 'CLAEO1' },
      asOf: '2026-06-01T12:00:00.000Z',
      recognised: true,
      operator: {
        issuer: 'CL',
        aeoId: 'CLAEO1',
        version: 4,
        status: 'certified',
        statusSince: '2025-02-28',
        programme: 'AEO-F',
        roles: ['manufacturer', 'exporter', 'importer'],
      },
      mra: { id: 'CL-PE "2020"', partner: 'CL', status: 'in-force', inForce: true },
      benefits: [
        {
          id: 'fewer-checks',
          description: 'Fewer checks, "green" lane \u00e9',
          roles: ['exporter', 'importer'],
        },
        { id: 'import-lane', description: 'Import lane', roles: ['importer'] },
      ],
      evidence: { recordId: RECORD_ID, digest: DIGEST, receivedAt: '2026-01-01T10:00:00.123Z' },
      freshness: {
        partnerLastReceivedAt: '2026-05-31T00:00:00.000Z',
        readModelLastChangeAt: '2026-01-01T10:00:00.123Z',
      },
    });
  });

  it('writes every kind of answer within the published schema', () => {
    const reasons = queries.map((q) => {
      const a: unknown = JSON.parse(answerer.answerJson(q, at).toString());
      expect(validate(a), JSON.stringify(validate.errors)).toBe(true);
      return (a as { reason?: string }).reason ?? 'recognised';
    });
    expect(reasons).toEqual([
      'recognised',
      'suspended',
      'out-of-scope',
      'mra-not-in-force',
      'unknown',
      'unknown',
      'recognised',
      'recognised',
      'unknown',
    ]);
  });

  it('answers an unknown issuer without an MRA, and an unknown one of a partner with it', () => {
    const stranger = answerer.answer({ issuer: 'ZZ', aeoId: 'NOBODY' }, at);
    expect(stranger.mra).toBeUndefined();
    expect(stranger.freshness.partnerLastReceivedAt).toBeNull();
    expect(answerer.answer({ issuer: 'CL', aeoId: 'NOBODY' }, at).mra?.id).toBe('CL-PE "2020"');
  });

  it('escapes what it echoes', () => {
    const odd = { scheme: 'T"\\', value: '\u2028</script>' };
    expect(answerer.answer(odd, at).query).toEqual(odd);
  });

  it('answers a manifest item by item, in order, as the single answers', () => {
    const batch = JSON.parse(answerer.batchJson(queries, at).toString()) as {
      asOf: string;
      answers: unknown[];
    };
    expect(batch.asOf).toBe(at.toISOString());
    expect(batch.answers).toEqual(queries.map((q) => answerer.answer(q, at)));
  });

  it('reports freshness as of each request, not as first written', () => {
    const before = answerer.answer(queries[0]!, at).freshness.partnerLastReceivedAt;
    model.sawPartner('CL', t('2026-06-01T11:00:00Z'));
    expect(before).toBe('2026-05-31T00:00:00.000Z');
    expect(answerer.answer(queries[0]!, at).freshness.partnerLastReceivedAt).toBe('2026-06-01T11:00:00.000Z');
  });
});
