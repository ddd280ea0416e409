/**
 * Receipts that prove nothing, made from a real one (docs/threats.md 62): unsigned (`alg: none`), signed by the
 * wrong administration, or signed by the right one over other digests. A sender must count none of them as
 * delivery.
 */
import type { Signer } from '../../src/config/types.ts';
import { signReceipt } from '../../src/inbound/receipt.ts';
import type { Receipt } from '../../src/protocol/receipt.ts';
import { decodePayload } from './gateway.ts';

export const receiptOf = (jws: string) => decodePayload(jws) as Receipt;
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** The real receipt's payload under `alg: none`, with no signature. */
export const unsignedReceipt = (real: string) =>
  `${b64({ alg: 'none', typ: 'aeo-receipt+jws' })}.${real.split('.')[1]}.`;

/** The real receipt signed again by `signer` (the sender itself, say). */
export const receiptSignedBy = (real: string, signer: Signer) => signReceipt(receiptOf(real), signer);

/** The real receipt with each digest changed, signed by `signer` (the partner's own key). */
export function receiptOverOtherDigests(real: string, signer: Signer): Promise<string> {
  const r = receiptOf(real);
  return signReceipt(
    {
      ...r,
      results: r.results.map((x) => ({
        ...x,
        digest: x.digest.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')),
      })),
    },
    signer,
  );
}
