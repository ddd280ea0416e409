/** The signed receipt of docs/protocol.md (`aeo-receipt/1`): one result per record, in request order. */
import type { Signer } from '../config/types.ts';
import { RECEIPT_PROFILE } from '../crypto/compact-jws.ts';
import { signCompactJws } from '../crypto/jws-verify.ts';
import type { RecordRejectionCode } from '../errors.ts';
import type { Decision } from './decide.ts';

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

export function resultOf(d: Decision): ReceiptResult {
  switch (d.outcome) {
    case 'rejected': {
      const rest = { digest: d.digest, outcome: 'rejected' as const, code: d.code, detail: d.detail };
      return d.recordId === undefined
        ? { index: d.index, ...rest }
        : { index: d.index, recordId: d.recordId, ...rest };
    }
    case 'duplicate':
      return { index: d.index, recordId: d.recordId, digest: d.digest, outcome: 'duplicate' };
    case 'candidate':
      return { index: d.index, recordId: d.record.recordId, digest: d.digest, outcome: d.result };
  }
}

export function signReceipt(receipt: Receipt, signer: Signer): Promise<string> {
  return signCompactJws(
    Buffer.from(JSON.stringify(receipt), 'utf8'),
    { alg: signer.alg, typ: RECEIPT_PROFILE.typ, x5c: [...signer.x5c], kid: signer.kid },
    signer.key,
  );
}
