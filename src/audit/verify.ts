/**
 * `npm run gateway -- audit verify`: the chain intact, every evidence row still matching the entry that
 * anchors it, and every evidence row covered by one. Every check runs to its end; the break named is the
 * first in the chain (the lowest seq) whichever check found it, and the number of breaks found is told.
 */
import type { Sql } from '../store/types.ts';
import { verifyBaseline } from './baseline.ts';
import { Breaks } from './breaks.ts';
import { type AuditBreak, DEFAULT_PAGE, verifyChain } from './verify-chain.ts';
import {
  ANCHORED,
  type EvidenceCounts,
  verifyAnchored,
  verifyEntriesHaveEvidence,
} from './verify-evidence.ts';
import { verifyInbound } from './verify-inbound.ts';
import { verifyOperatorState } from './verify-operator-state.ts';
import { verifyPublished } from './verify-published.ts';
import { verifyReconciliations } from './verify-reconciliation.ts';
import { verifySummariesIssued, verifySummariesReceived } from './verify-summaries.ts';
import { verifyMraTerms } from './verify-terms.ts';

export type { AuditBreak } from './verify-chain.ts';

export interface AuditVerification {
  intact: boolean;
  entries: number;
  /** The hash of the last entry: kept elsewhere, it also shows that no entry was cut off the end. */
  head: string;
  evidence: EvidenceCounts;
  /** The first broken link: the break with the lowest seq. */
  broken?: AuditBreak;
  /** How many breaks were found in all (0 when intact). */
  breaks: number;
}

export async function verifyAudit(sql: Sql, page = DEFAULT_PAGE): Promise<AuditVerification> {
  const evidence: EvidenceCounts = {
    inboundReceipts: 0,
    inboundRecords: 0,
    homeRecords: 0,
    outboundReceipts: 0,
    summaries: 0,
    summaryReceipts: 0,
    operators: 0,
    mraTerms: 0,
    reconciliations: 0,
    redacted: 0,
  };
  const breaks = new Breaks();
  // The chain first: on equal seq its break is the one named. Entries after a break in the chain are not
  // authentic, yet the evidence checks still run: a break they find earlier in the chain comes first.
  const chain = await verifyChain(sql, page);
  breaks.add(chain.broken);
  await verifyInbound(sql, evidence, breaks, page);
  await verifyOperatorState(sql, evidence, breaks, page);
  await verifyPublished(sql, evidence, breaks, page);
  for (const t of [ANCHORED.outbound, ANCHORED.summaryIn, ANCHORED.summaryOut])
    await verifyAnchored(sql, t, evidence, breaks, page);
  await verifySummariesReceived(sql, evidence, breaks, page);
  await verifySummariesIssued(sql, breaks, page);
  await verifyMraTerms(sql, evidence, breaks, page);
  await verifyReconciliations(sql, evidence, breaks, page);
  await verifyEntriesHaveEvidence(sql, breaks);
  await verifyBaseline(sql, breaks, page);
  return {
    intact: breaks.first === undefined,
    entries: chain.entries,
    head: chain.head,
    evidence,
    breaks: breaks.count,
    ...(breaks.first === undefined ? {} : { broken: breaks.first }),
  };
}

/** One line naming the break, for the command line and the logs. */
export function describeBreak(b: AuditBreak): string {
  const entry = b.seq === null ? 'no entry' : `seq ${b.seq} (${b.kind}, subject ${b.subject})`;
  const row = b.row === undefined ? '' : ` row ${b.row}`;
  return `${b.table}${row}, ${entry}: ${b.problem}`;
}

/** The verdict's first line: the first broken link, and how many breaks were found in all. */
export function describeVerification(v: AuditVerification): string {
  if (v.broken === undefined) return `audit chain intact: ${v.entries} entries, head ${v.head}`;
  const others = v.breaks > 1 ? ` (${v.breaks} breaks found in all; this one is the first in the chain)` : '';
  return `audit chain broken: ${describeBreak(v.broken)}${others}`;
}
