/**
 * Decides the outcome of each summary candidate against what is held, in batch order, so that two summaries of
 * one batch are judged as if they had come one after the other (as records are). Pure: the caller loads the
 * held facts and writes the verdicts.
 */
import type { SummaryRejectionCode } from '../../errors.ts';
import type { MonitoringSummary } from '../../protocol/monitoring-summary.ts';
import type { SummaryCandidate, SummaryJudged, SummaryRejected } from './judge.ts';

export interface HeldSummaries {
  /** summaryId → SHA-256 of the payload held under it. */
  payloadBySummaryId: Map<string, string>;
  /** period key → highest revision held. */
  highestRevision: Map<string, number>;
  /** period key + revision → summaryId held with that revision. */
  summaryIdByRevision: Map<string, string>;
}

export type SummaryVerdict =
  | SummaryRejected
  | (SummaryCandidate & { result: 'accepted' | 'superseded' })
  | { outcome: 'duplicate'; index: number; digest: string; summaryId: string };

/** (reporter, subject, mraId, period): what a revision counts within. */
export function periodKey(s: Pick<MonitoringSummary, 'reporter' | 'subject' | 'mraId' | 'period'>): string {
  return [s.reporter, s.subject, s.mraId, s.period.from, s.period.to].join('\u0000');
}

export function revisionKey(
  s: Pick<MonitoringSummary, 'reporter' | 'subject' | 'mraId' | 'period'>,
  revision: number,
): string {
  return `${periodKey(s)}\u0000${revision}`;
}

export function judgeSummariesAgainstHeld(
  judged: readonly SummaryJudged[],
  held: HeldSummaries,
): SummaryVerdict[] {
  return judged.map((j): SummaryVerdict => {
    if (j.outcome === 'rejected') return j;
    const { summary } = j;
    const reject = (code: SummaryRejectionCode, detail: string): SummaryRejected => ({
      outcome: 'rejected',
      index: j.index,
      digest: j.digest,
      summaryId: summary.summaryId,
      code,
      detail,
    });
    const heldPayload = held.payloadBySummaryId.get(summary.summaryId);
    if (heldPayload !== undefined) {
      if (heldPayload === j.payloadSha256) {
        return { outcome: 'duplicate', index: j.index, digest: j.digest, summaryId: summary.summaryId };
      }
      return reject(
        'RECORD_ID_CONFLICT',
        `summaryId ${summary.summaryId} is already held with another payload`,
      );
    }
    const rKey = revisionKey(summary, summary.revision);
    const sameRevision = held.summaryIdByRevision.get(rKey);
    if (sameRevision !== undefined) {
      return reject(
        'VERSION_CONFLICT',
        `revision ${summary.revision} of ${summary.period.from}..${summary.period.to} is held as ${sameRevision}`,
      );
    }
    const pKey = periodKey(summary);
    const highest = held.highestRevision.get(pKey);
    held.payloadBySummaryId.set(summary.summaryId, j.payloadSha256);
    held.summaryIdByRevision.set(rKey, summary.summaryId);
    if (highest !== undefined && summary.revision < highest) return { ...j, result: 'superseded' };
    held.highestRevision.set(pKey, summary.revision);
    return { ...j, result: 'accepted' };
  });
}
