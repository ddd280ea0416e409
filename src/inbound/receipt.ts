/** The receiving side's receipt: one result per verdict, in request order, signed with the home signer. */
import type { Logger } from 'pino';
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

/**
 * One log line per receipt with its outcomes counted, and a security warning per id re-used for another
 * payload: the same for batches of records and of monitoring summaries (`what`).
 */
export function logReceiptOutcomes(log: Logger, receipt: Receipt, what: 'records' | 'summaries'): void {
  const counts: Record<string, number> = {};
  for (const r of receipt.results) {
    const key = r.outcome === 'rejected' ? `rejected:${r.code}` : r.outcome;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  const received = what === 'records' ? 'records batch received' : 'monitoring summaries received';
  log.info({ receiptId: receipt.receiptId, sender: receipt.sender, outcomes: counts }, received);
  const rejected = receipt.results.filter((r) => r.outcome === 'rejected').length;
  if (rejected > 0) {
    const partner = receipt.sender ?? 'unidentified sender';
    log.warn(
      { partner, receiptId: receipt.receiptId, rejected, outcomes: counts },
      `${what} of ${partner} rejected: ${rejected} of ${receipt.results.length}`,
    );
  }
  for (const r of receipt.results) {
    if (r.code !== 'RECORD_ID_CONFLICT') continue;
    if (what === 'records') {
      log.warn(
        { security: true, sender: receipt.sender, recordId: r.recordId },
        'recordId re-used for another payload',
      );
    } else {
      log.warn(
        { security: true, sender: receipt.sender, summaryId: r.summaryId },
        'summaryId re-used for another payload',
      );
    }
  }
}
