/**
 * The sender's side of a receipt: it proves delivery only if it is signed by the partner (chained to that
 * partner's anchors), names both parties, and reports the digest of exactly what was sent at each index
 * (docs/threats.md 50, 62).
 */
import type { ChainCache } from '../crypto/chain-cache.ts';
import { RECEIPT_PROFILE } from '../crypto/compact-jws.ts';
import { recordDigest } from '../crypto/digest.ts';
import { type CheckResult, fail } from '../crypto/types.ts';
import { verifySignedObject } from '../crypto/verify-signed.ts';
import type { Partner } from '../mra/types.ts';
import type { Receipt } from '../protocol/receipt.ts';
import { validateAgainst } from '../validation.ts';

/** Outcomes that count a record as delivered. */
export const DELIVERED_OUTCOMES: ReadonlySet<string> = new Set(['accepted', 'duplicate', 'superseded']);

export async function checkReceipt(
  receiptJws: unknown,
  sent: readonly string[],
  ctx: {
    home: string;
    partner: Partner;
    at: Date;
    cache?: ChainCache;
    /** What the results name what was sent by: records by recordId, summaries by summaryId, never the other. */
    names?: 'recordId' | 'summaryId';
  },
): Promise<CheckResult<{ receipt: Receipt }>> {
  const verified = await verifySignedObject(receiptJws, {
    profile: RECEIPT_PROFILE,
    stores: [ctx.partner.trust],
    at: ctx.at,
    ...(ctx.cache ? { cache: ctx.cache } : {}),
  });
  if (!verified.ok) return verified;
  const schema = validateAgainst('aeo-receipt-1', verified.payload);
  if (!schema.ok) return fail('SCHEMA_INVALID', `receipt ${schema.errors.join('; ')}`);
  const receipt = verified.payload as Receipt;
  if (receipt.receiver !== ctx.partner.adminId) {
    return fail('ISSUER_MISMATCH', `receipt is from ${receipt.receiver}, not ${ctx.partner.adminId}`);
  }
  if (receipt.sender !== ctx.home) return fail('ISSUER_MISMATCH', `receipt names sender ${receipt.sender}`);
  if (receipt.results.length !== sent.length) {
    return fail('SCHEMA_INVALID', `receipt has ${receipt.results.length} results for ${sent.length} records`);
  }
  for (const [i, r] of receipt.results.entries()) {
    if (r.index !== i || r.digest !== recordDigest(sent[i]!)) {
      return fail('SIGNATURE_INVALID', `receipt result ${i} is not for the record sent at that index`);
    }
    const foreign = (ctx.names ?? 'recordId') === 'recordId' ? r.summaryId : r.recordId;
    if (foreign !== undefined) {
      return fail(
        'SCHEMA_INVALID',
        `receipt result ${i} names a ${ctx.names === 'summaryId' ? 'record' : 'summary'}`,
      );
    }
  }
  return { ok: true, receipt };
}
