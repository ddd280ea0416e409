/**
 * Decides the outcome of each candidate against what is already held, in batch order, so that two records of
 * one batch for the same operator are judged as if they had come one after the other. Pure: the caller loads
 * the held facts and writes the verdicts.
 */
import type { RecordRejectionCode } from '../errors.ts';
import type { Candidate, Judged, Rejected } from './judge.ts';

export interface HeldFacts {
  /** recordId → SHA-256 of the payload held under it. */
  payloadByRecordId: Map<string, string>;
  /** operator key → version of its current state. */
  currentVersion: Map<string, number>;
  /** operator key + version → recordId held with that version. */
  recordIdByVersion: Map<string, string>;
}

export type Verdict =
  | Rejected
  | (Candidate & { result: 'accepted' | 'superseded' })
  | { outcome: 'duplicate'; index: number; digest: string; recordId: string };

export function operatorKey(issuer: string, aeoId: string): string {
  return `${issuer}\u0000${aeoId}`;
}

function versionKey(issuer: string, aeoId: string, version: number): string {
  return `${issuer}\u0000${aeoId}\u0000${version}`;
}

export function judgeAgainstHeld(judged: readonly Judged[], held: HeldFacts): Verdict[] {
  return judged.map((j): Verdict => {
    if (j.outcome === 'rejected') return j;
    const { record } = j;
    const reject = (code: RecordRejectionCode, detail: string): Rejected => ({
      outcome: 'rejected',
      index: j.index,
      digest: j.digest,
      recordId: record.recordId,
      code,
      detail,
    });
    const heldPayload = held.payloadByRecordId.get(record.recordId);
    if (heldPayload !== undefined) {
      if (heldPayload === j.payloadSha256) {
        return { outcome: 'duplicate', index: j.index, digest: j.digest, recordId: record.recordId };
      }
      return reject('RECORD_ID_CONFLICT', `recordId ${record.recordId} is already held with another payload`);
    }
    const vKey = versionKey(record.issuer, record.operator.aeoId, record.version);
    const sameVersion = held.recordIdByVersion.get(vKey);
    if (sameVersion !== undefined) {
      return reject(
        'VERSION_CONFLICT',
        `version ${record.version} of ${record.operator.aeoId} is held as ${sameVersion}`,
      );
    }
    const oKey = operatorKey(record.issuer, record.operator.aeoId);
    const current = held.currentVersion.get(oKey);
    held.payloadByRecordId.set(record.recordId, j.payloadSha256);
    held.recordIdByVersion.set(vKey, record.recordId);
    if (current !== undefined && record.version <= current) return { ...j, result: 'superseded' };
    held.currentVersion.set(oKey, record.version);
    return { ...j, result: 'accepted' };
  });
}
