/**
 * The compact manifest answer (src/lookup/answer-compact.ts): over varied operators, MRAs and manifests, both
 * forms hold to their schemas and the compact one expands to exactly the bytes of the full one.
 */
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAnswerer, type OperatorQuery } from '../../src/lookup/answer.ts';
import { type CompactBatchAnswer, expandCompact } from '../../src/lookup/answer-compact.ts';
import { batchSchema, compactBatchSchema } from '../../src/lookup/answer-schema.ts';
import { ReadModel, STATUSES } from '../../src/lookup/read-model.ts';
import type { Mra, Partner } from '../../src/mra/types.ts';
import { PROGRAMMES, ROLES } from '../../src/protocol/record.ts';

const ajv = new Ajv({ strict: true, allErrors: true });
const validFull = ajv.compile(batchSchema);
const validCompact = ajv.compile(compactBatchSchema);
const DIGEST = Buffer.alloc(32, 7).toString('base64url');
const ISSUERS = ['CL', 'AR', 'ZZ'] as const;
const at = new Date('2026-06-01T12:00:00Z');

const roles = fc.subarray([...ROLES], { minLength: 1 });
const mra = fc.record({
  status: fc.constantFrom('in-force', 'suspended', 'terminated' as const),
  programmes: fc.subarray([...PROGRAMMES], { minLength: 1 }),
  roles: fc.subarray([...ROLES], { minLength: 1 }),
  benefits: fc.array(
    fc.record({
      id: fc.stringMatching(/^[a-z-]{1,12}$/),
      description: fc.string({ maxLength: 20 }),
      roles: fc.option(roles, { nil: undefined }),
    }),
    { maxLength: 4 },
  ),
});
const operator = fc.record({
  issuer: fc.constantFrom(...ISSUERS),
  n: fc.integer({ min: 0, max: 30 }),
  version: fc.integer({ min: 1, max: 9 }),
  status: fc.constantFrom(...STATUSES),
  programme: fc.constantFrom(...PROGRAMMES),
  roles,
  // A few identifiers only, so that some are shared and answer as ambiguous.
  tin: fc.integer({ min: 0, max: 5 }),
  receivedAt: fc.integer({ min: Date.parse('2020-01-01'), max: Date.parse('2026-07-01') }),
});
const query = fc.oneof(
  fc.record({
    issuer: fc.constantFrom(...ISSUERS),
    aeoId: fc.integer({ min: 0, max: 35 }).map((n) => `AEO${n}`),
  }),
  fc.record(
    {
      scheme: fc.constant('TIN'),
      value: fc.integer({ min: 0, max: 6 }).map((n) => `T${n}`),
      country: fc.constantFrom(...ISSUERS),
    },
    { requiredKeys: ['scheme', 'value'] },
  ),
);

type MraInput = typeof mra extends fc.Arbitrary<infer T> ? T : never;
type OperatorInput = typeof operator extends fc.Arbitrary<infer T> ? T : never;

function world(mras: MraInput[], operators: OperatorInput[]) {
  const model = new ReadModel();
  for (const o of operators) {
    const aeoId = `AEO${o.n}`;
    model.apply({
      issuer: o.issuer,
      aeoId,
      version: o.version,
      recordId: '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0ff',
      digest: DIGEST,
      status: o.status,
      statusSince: '2025-02-28',
      programme: o.programme,
      roles: o.roles,
      receivedAt: o.receivedAt,
    });
    model.setIdentifiers(o.issuer, aeoId, [{ scheme: 'TIN', value: `T${o.tin}` }]);
  }
  model.sawPartner('CL', Date.parse('2026-05-31T00:00:00Z'));
  const partners = mras.map((m, i) => {
    const terms: Mra = {
      id: `MRA ${i}`,
      inForceFrom: new Date('2021-01-01T00:00:00Z'),
      inForceUntil: undefined,
      status: m.status,
      programmes: new Set(m.programmes),
      roles: new Set(m.roles),
      benefits: m.benefits,
    };
    return { adminId: ISSUERS[i]!, name: undefined, endpoint: 'x', mra: terms } as unknown as Partner;
  });
  return createAnswerer(model, partners);
}

describe('compact manifest answers', () => {
  it('hold to their schema and expand to exactly the full answer', () => {
    fc.assert(
      fc.property(
        fc.array(mra, { minLength: 1, maxLength: 2 }),
        fc.array(operator, { maxLength: 40 }),
        fc.array(query, { minLength: 1, maxLength: 60 }),
        (mras, operators, queries) => {
          const answerer = world(mras, operators);
          const full = answerer.batchJson(queries as OperatorQuery[], at).toString('utf8');
          const compactText = answerer.batchJson(queries as OperatorQuery[], at, 'compact').toString('utf8');
          const compact = JSON.parse(compactText) as CompactBatchAnswer;
          expect(validFull(JSON.parse(full)), JSON.stringify(validFull.errors)).toBe(true);
          expect(validCompact(compact), JSON.stringify(validCompact.errors)).toBe(true);
          expect(JSON.stringify(expandCompact(compact))).toBe(full);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('gives each shared part once, and the full form stays the default', () => {
    const answerer = world(
      [
        {
          status: 'in-force',
          programmes: ['AEO-F'],
          roles: ['importer'],
          benefits: [{ id: 'b', description: 'B', roles: undefined }],
        },
      ],
      Array.from({ length: 20 }, (_, n) => ({
        issuer: 'CL' as const,
        n,
        version: 1,
        status: 'certified' as const,
        programme: 'AEO-F' as const,
        roles: ['importer' as const],
        tin: n,
        receivedAt: Date.parse('2026-01-01'),
      })),
    );
    const queries = Array.from({ length: 20 }, (_, n) => ({ issuer: 'CL', aeoId: `AEO${n}` }));
    const compact = JSON.parse(answerer.batchJson(queries, at, 'compact').toString()) as CompactBatchAnswer;
    expect(compact.benefits).toEqual([[{ id: 'b', description: 'B', roles: ['importer'] }]]);
    expect(compact.mras).toHaveLength(1);
    expect(compact.freshness).toHaveLength(1);
    expect(compact.answers.every((a) => a.benefits === 0 && a.mra === 0 && a.freshness === 0)).toBe(true);
    expect(answerer.batchJson(queries, at).equals(answerer.batchJson(queries, at, 'full'))).toBe(true);
  });

  it('refuses an index that is not in its table', () => {
    const compact: CompactBatchAnswer = {
      asOf: at.toISOString(),
      form: 'compact',
      benefits: [[]],
      mras: [],
      freshness: [{ partnerLastReceivedAt: null, readModelLastChangeAt: null }],
      answers: [{ query: { issuer: 'CL', aeoId: 'X' }, recognised: false, benefits: 1, freshness: 0 }],
    };
    expect(() => expandCompact(compact)).toThrow(/benefits 1/);
  });
});
