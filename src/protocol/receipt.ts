/** The signed receipt of docs/protocol.md (`aeo-receipt/1`): one result per record, in request order. */
import type { RecordRejectionCode } from '../errors.ts';

export type Outcome = 'accepted' | 'duplicate' | 'superseded' | 'rejected';

export interface ReceiptResult {
  index: number;
  recordId?: string;
  digest: string;
  outcome: Outcome;
  code?: RecordRejectionCode;
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
