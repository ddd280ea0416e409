/**
 * Which lookups the monitoring figures count, and under which partner and outcome: one count per answer (also
 * per item of a manifest), under the issuer asked for, the one issuer of every match of an identifier, or the
 * country given; none for an issuer that is no partner or an identifier matched across issuers.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAnswerer } from '../../src/lookup/answer.ts';
import { LookupCounts } from '../../src/lookup/lookup-counts.ts';
import { ReadModel, type VersionInput } from '../../src/lookup/read-model.ts';
import type { Mra, Partner } from '../../src/mra/types.ts';

const MRA: Mra = {
  id: 'MRA',
  inForceFrom: new Date('2020-01-01T00:00:00Z'),
  inForceUntil: undefined,
  status: 'in-force',
  programmes: new Set(['AEO-F']),
  roles: new Set(['exporter']),
  benefits: [],
};
const partners = ['CL', 'AR'].map((adminId) => ({ adminId, mra: MRA }) as unknown as Partner);
const at = new Date('2026-06-01T12:00:00Z');

function held(model: ReadModel, issuer: string, aeoId: string, o: Partial<VersionInput>, tin: string): void {
  model.apply({
    issuer,
    aeoId,
    version: 1,
    recordId: randomUUID(),
    digest: Buffer.alloc(32, 1).toString('base64url'),
    status: 'certified',
    statusSince: '2025-01-01',
    programme: 'AEO-F',
    roles: ['exporter'],
    receivedAt: Date.parse('2026-01-01T00:00:00Z'),
    ...o,
  });
  model.setIdentifiers(issuer, aeoId, [{ scheme: 'TIN', value: tin }]);
}

describe('lookup counts at the answer', () => {
  it('counts each answer under its partner and outcome, and no other', () => {
    const model = new ReadModel();
    held(model, 'CL', 'CL1', {}, 'T1');
    held(model, 'CL', 'CL2', { status: 'suspended' }, 'T2');
    held(model, 'CL', 'CL3', { programme: 'AEO-S' }, 'SHARED-CL');
    held(model, 'CL', 'CL4', {}, 'SHARED-CL');
    held(model, 'AR', 'AR1', {}, 'SHARED');
    held(model, 'CL', 'CL5', {}, 'SHARED');
    held(model, 'US', 'US1', {}, 'T9');
    const counts = new LookupCounts(['CL', 'AR'], () => at.getTime());
    const answerer = createAnswerer(model, partners, counts);

    answerer.answerJson({ issuer: 'CL', aeoId: 'CL1' }, at);
    answerer.answerJson({ issuer: 'CL', aeoId: 'NONE' }, at);
    answerer.answerJson({ issuer: 'US', aeoId: 'US1' }, at);
    answerer.batchJson(
      [
        { issuer: 'CL', aeoId: 'CL2' },
        { issuer: 'CL', aeoId: 'CL3' },
        { issuer: 'AR', aeoId: 'AR1' },
        { issuer: 'CL', aeoId: 'CL1' },
      ],
      at,
    );
    answerer.answerJson({ scheme: 'TIN', value: 'T1' }, at); // one match: its issuer
    answerer.answerJson({ scheme: 'TIN', value: 'NONE', country: 'AR' }, at); // the country asked
    answerer.answerJson({ scheme: 'TIN', value: 'NONE' }, at); // no issuer: not counted
    answerer.answerJson({ scheme: 'TIN', value: 'SHARED-CL' }, at); // ambiguous within CL
    answerer.answerJson({ scheme: 'TIN', value: 'SHARED' }, at); // ambiguous across issuers: not counted
    answerer.answerJson({ scheme: 'TIN', value: 'SHARED', country: 'AR' }, at); // AR's one match
    answerer.answerJson({ scheme: 'TIN', value: 'T9', country: 'US' }, at); // no partner

    const rows = counts.pending().map((r) => `${r.issuer} ${r.outcome} ${r.count}`);
    expect(rows.sort()).toEqual(
      [
        'CL recognised 3', // CL1 twice, T1
        'CL unknown 1',
        'CL suspended 1',
        'CL out-of-scope 1',
        'CL ambiguous-identifier 1',
        'AR recognised 2', // AR1, SHARED in AR
        'AR unknown 1',
      ].sort(),
    );
    expect(new Set(counts.pending().map((r) => r.day))).toEqual(new Set(['2026-06-01']));
  });
});
