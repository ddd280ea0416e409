/** The receiving side's receipt: one result per verdict, in request order, signed with the home signer. */
import type { Signer } from '../config/types.ts';
import { RECEIPT_PROFILE } from '../crypto/compact-jws.ts';
import { signCompactJws } from '../crypto/jws-verify.ts';
import type { Receipt, ReceiptResult } from '../protocol/receipt.ts';
import type { Verdict } from './verdict.ts';

export function resultOf(d: Verdict): ReceiptResult {
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
