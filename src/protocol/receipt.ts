/** The signed receipt of docs/protocol.md (`aeo-receipt/1`): one result per record, in request order. */
import type { SummaryRejectionCode } from '../errors.ts';

export type Outcome = 'accepted' | 'duplicate' | 'superseded' | 'rejected';

export interface ReceiptResult {
  index: number;
  recordId?: string;
  /** In a receipt for monitoring summaries, instead of recordId. */
  summaryId?: string;
  digest: string;
  outcome: Outcome;
  /** A record code, or for a summary one of SUMMARY_ONLY_REJECTION_CODES too. */
  code?: SummaryRejectionCode;
  detail?: string;
}

export interface Receipt {
  schema: 'aeo-receipt/1';
  receiptId: string;
  /** The partner that sent the batch; null only when mTLS is off and no record could be attributed. */
  sender: string | null;
  receiver: string;
  receivedAt: string;
  results: ReceiptResult[];
}
