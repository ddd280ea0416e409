/**
 * What a receipt we signed said, counted by outcome and rejection code: from the `outcome_counts` written with
 * it, or, for receipts signed before that column existed, from the signed receipt itself.
 */
import { decodeBase64urlStrict } from '../crypto/base64url.ts';
import type { Receipt } from '../protocol/receipt.ts';
import { countOutcomes, emptyOutcomes, type OutcomeCounts } from '../protocol/receipt-counts.ts';

export { addOutcomes, emptyOutcomes, type OutcomeCounts } from '../protocol/receipt-counts.ts';

/** The counts of a compact JWS receipt's payload; empty when it cannot be read (it was signed here). */
export function outcomesOfReceiptJws(jws: string): OutcomeCounts {
  const bytes = decodeBase64urlStrict(jws.split('.')[1] ?? '');
  if (bytes === null) return emptyOutcomes();
  try {
    const receipt = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<Receipt>;
    return Array.isArray(receipt.results) ? countOutcomes(receipt.results) : emptyOutcomes();
  } catch {
    return emptyOutcomes();
  }
}
