/**
 * docs/threats.md 74: an identifier (EORI, TIN) held by operators of two issuers, or by two operators of one issuer,
 * one of them suspended. Whatever the order the records arrived in, one match never hides another's status:
 * every match is listed and the answer is not recognised.
 */
import { randomUUID } from 'node:crypto';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { createAnswerer, type LookupAnswer, type OperatorQuery } from '../../src/lookup/answer.ts';
import { answerSchema } from '../../src/lookup/answer-schema.ts';
import { ReadModel, type VersionInput } from '../../src/lookup/read-model.ts';
import type { Mra, Partner } from '../../src/mra/types.ts';

const t = (iso: string) => Date.parse(iso);
const at = new Date('2026-06-01T12:00:00Z');
const validate = new Ajv({ strict: true, allErrors: true }).compile(answerSchema);

const MRA: Mra = {
  id: 'MRA',
  inForceFrom: new Date('2020-01-01T00:00:00Z'),
  inForceUntil: undefined,
  status: 'in-force',
  programmes: new Set(['AEO-F']),
  roles: new Set(['exporter']),
  benefits: [{ id: 'fewer-checks', description: 'Fewer checks', roles: undefined }],
};
const partners = ['CL', 'AR'].map(
  (adminId) => ({ adminId, name: adminId, endpoint: 'x', trust: {}, mra: MRA }) as unknown as Partner,
);

function version(issuer: string, aeoId: string, overrides: Partial<VersionInput> = {}): VersionInput {
  return {
    issuer,
    aeoId,
    version: 1,
    recordId: randomUUID(),
    digest: Buffer.alloc(32, 3).toString('base64url'),
    status: 'certified',
    statusSince: '2025-01-01',
    programme: 'AEO-F',
    roles: ['exporter'],
    receivedAt: t('2026-01-01T10:00:00Z'),
    ...overrides,
  };
}

type Held = { v: VersionInput; ids: { scheme: string; value: string }[] };

function modelOf(held: readonly Held[]): ReadModel {
  const model = new ReadModel();
  for (const { v, ids } of held) {
    model.apply(v);
    model.setIdentifiers(v.issuer, v.aeoId, ids);
  }
  return model;
}

function answers(held: readonly Held[], query: OperatorQuery, when = at): LookupAnswer[] {
  // Both orders of arrival give the same answer, and the batch answers as the single lookup does.
  const out: LookupAnswer[] = [];
  for (const order of [held, [...held].reverse()]) {
    const answerer = createAnswerer(modelOf(order), partners);
    const single = answerer.answer(query, when);
    const batch = JSON.parse(answerer.batchJson([query, query], when).toString()) as {
      answers: LookupAnswer[];
    };
    expect(batch.answers).toEqual([single, single]);
    expect(validate(single), JSON.stringify(validate.errors)).toBe(true);
    out.push(single);
  }
  expect(out[0]).toEqual(out[1]);
  return out;
}

const EORI = { scheme: 'EORI', value: 'XX123' };

describe('an identifier shared by several operators (docs/threats.md 74)', () => {
  it('two issuers, one suspended: not recognised, both listed with their status', () => {
    const held = [
      { v: version('CL', 'CLAEO1', { status: 'suspended', statusSince: '2026-02-01' }), ids: [EORI] },
      { v: version('AR', 'ARAEO1'), ids: [EORI] },
    ];
    const [a] = answers(held, EORI);
    expect(a).toMatchObject({ recognised: false, reason: 'ambiguous-identifier', benefits: [] });
    expect(a!.operator).toBeUndefined();
    expect(a!.evidence).toBeUndefined();
    expect(a!.matches).toEqual([
      {
        issuer: 'AR',
        aeoId: 'ARAEO1',
        version: 1,
        status: 'certified',
        statusSince: '2025-01-01',
        recognised: true,
      },
      {
        issuer: 'CL',
        aeoId: 'CLAEO1',
        version: 1,
        status: 'suspended',
        statusSince: '2026-02-01',
        recognised: false,
        reason: 'suspended',
      },
    ]);
  });

  it('two operators of one issuer: the same rule, with the issuing country given', () => {
    const held = [
      { v: version('CL', 'CLAEO1', { status: 'revoked' }), ids: [EORI] },
      { v: version('CL', 'CLAEO2'), ids: [EORI] },
    ];
    const [a] = answers(held, { ...EORI, country: 'CL' });
    expect(a).toMatchObject({ recognised: false, reason: 'ambiguous-identifier' });
    expect(a!.matches?.map((m) => [m.aeoId, m.status])).toEqual([
      ['CLAEO1', 'revoked'],
      ['CLAEO2', 'certified'],
    ]);
  });

  it('never recognised by a shared identifier, even when every match is', () => {
    const held = [
      { v: version('CL', 'CLAEO1'), ids: [EORI] },
      { v: version('AR', 'ARAEO1'), ids: [EORI] },
    ];
    const [a] = answers(held, EORI);
    expect(a).toMatchObject({ recognised: false, reason: 'ambiguous-identifier', benefits: [] });
    expect(a!.matches?.every((m) => m.recognised)).toBe(true);
  });

  it('the issuing country that names one operator answers for that one alone', () => {
    const held = [
      { v: version('CL', 'CLAEO1', { status: 'suspended' }), ids: [EORI] },
      { v: version('AR', 'ARAEO1'), ids: [EORI] },
    ];
    const [cl] = answers(held, { ...EORI, country: 'CL' });
    expect(cl).toMatchObject({ recognised: false, reason: 'suspended', operator: { aeoId: 'CLAEO1' } });
    const [ar] = answers(held, { ...EORI, country: 'AR' });
    expect(ar).toMatchObject({ recognised: true, operator: { aeoId: 'ARAEO1' } });
    expect(ar!.matches).toBeUndefined();
  });

  it('as of a time before the second operator was received, the first answers alone', () => {
    const held = [
      { v: version('CL', 'CLAEO1'), ids: [EORI] },
      {
        v: version('AR', 'ARAEO1', { status: 'suspended', receivedAt: t('2026-05-01T00:00:00Z') }),
        ids: [EORI],
      },
    ];
    const [before] = answers(held, EORI, new Date('2026-04-01T00:00:00Z'));
    expect(before).toMatchObject({ recognised: true, operator: { aeoId: 'CLAEO1' } });
    const [after] = answers(held, EORI);
    expect(after).toMatchObject({ recognised: false, reason: 'ambiguous-identifier' });
  });
});
