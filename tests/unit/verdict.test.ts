import { describe, expect, it } from 'vitest';
import { sampleRecord } from '../../src/cli/samples.ts';
import type { Candidate, Judged } from '../../src/inbound/judge.ts';
import { type HeldFacts, judgeAgainstHeld, operatorKey, type Verdict } from '../../src/inbound/verdict.ts';
import type { AeoStatusRecord } from '../../src/protocol/record.ts';

function candidate(
  index: number,
  record: AeoStatusRecord,
  payloadSha256 = `sha-${record.recordId}`,
): Candidate {
  return {
    outcome: 'candidate',
    index,
    digest: `d${index}`,
    jws: `jws${index}`,
    record,
    payloadJson: JSON.stringify(record),
    payloadSha256,
    signerFingerprint: 'f',
  };
}

function empty(): HeldFacts {
  return { payloadByRecordId: new Map(), currentVersion: new Map(), recordIdByVersion: new Map() };
}

function outcomes(verdicts: Verdict[]): string[] {
  return verdicts.map((d) =>
    d.outcome === 'candidate' ? d.result : d.outcome === 'rejected' ? `rejected:${d.code}` : d.outcome,
  );
}

describe('judgeAgainstHeld', () => {
  const v = (version: number, n = 1) => sampleRecord('CL', n, { version });

  it('accepts a first record and a newer version', () => {
    const held = empty();
    held.currentVersion.set(operatorKey('CL', v(1).operator.aeoId), 1);
    expect(outcomes(judgeAgainstHeld([candidate(0, v(2))], held))).toEqual(['accepted']);
  });

  it('keeps an older or equal version as superseded (docs/threats.md 42)', () => {
    const held = empty();
    held.currentVersion.set(operatorKey('CL', v(1).operator.aeoId), 5);
    expect(outcomes(judgeAgainstHeld([candidate(0, v(4))], held))).toEqual(['superseded']);
  });

  it('judges records of one batch in order: 6 then 5 (docs/threats.md 43)', () => {
    expect(outcomes(judgeAgainstHeld([candidate(0, v(6)), candidate(1, v(5))], empty()))).toEqual([
      'accepted',
      'superseded',
    ]);
  });

  it('calls the same recordId with the same payload a duplicate, with another a conflict (44, 45)', () => {
    const r = v(1);
    const held = empty();
    held.payloadByRecordId.set(r.recordId, 'sha-same');
    const same = candidate(0, r, 'sha-same');
    const other = candidate(1, r, 'sha-other');
    expect(outcomes(judgeAgainstHeld([same, other], held))).toEqual([
      'duplicate',
      'rejected:RECORD_ID_CONFLICT',
    ]);
  });

  it('refuses the same version under another recordId (47)', () => {
    const held = empty();
    const r = v(3);
    held.recordIdByVersion.set(`${operatorKey('CL', r.operator.aeoId)}\u00003`, 'another-id');
    expect(outcomes(judgeAgainstHeld([candidate(0, r)], held))).toEqual(['rejected:VERSION_CONFLICT']);
  });

  it('sees a record earlier in the same batch: a repeated record is a duplicate', () => {
    const r = v(1);
    expect(outcomes(judgeAgainstHeld([candidate(0, r), candidate(1, r)], empty()))).toEqual([
      'accepted',
      'duplicate',
    ]);
  });

  it('passes rejections through untouched, in order', () => {
    const rejected: Judged = {
      outcome: 'rejected',
      index: 0,
      digest: 'd0',
      code: 'JWS_MALFORMED',
      detail: 'x',
    };
    const out = judgeAgainstHeld([rejected, candidate(1, v(1))], empty());
    expect(out[0]).toBe(rejected);
    expect(outcomes(out)).toEqual(['rejected:JWS_MALFORMED', 'accepted']);
  });
});
