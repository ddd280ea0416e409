/** Sending a batch to the target and reading its receipt, as every section that sends records does. */
import { recordDigest } from '../crypto/digest.ts';
import { checkReceipt } from '../partner-client/receipt-check.ts';
import type { Receipt, ReceiptResult } from '../protocol/receipt.ts';
import type { AeoStatusRecord } from '../protocol/record.ts';
import type { Kit } from './types.ts';
import { describe, WireFailure } from './wire.ts';

export type Batch =
  | {
      ok: true;
      receiptJws: string;
      /** The receipt's payload as the target signed it (decoded, not yet trusted). */
      receipt: Receipt;
      /** Why the receipt does not prove delivery by the project's own check, or undefined when it does. */
      receiptProblem: string | undefined;
    }
  | { ok: false; got: string };

/** POSTs `{ records }` (or `{ summaries }` to /monitoring) and checks the receipt as a sending gateway does. */
export async function sendBatch(
  kit: Kit,
  items: readonly string[],
  to: 'records' | 'summaries' = 'records',
): Promise<Batch> {
  const path = to === 'records' ? '/records' : '/monitoring';
  let res: Awaited<ReturnType<Kit['wire']['send']>>;
  try {
    res = await kit.wire.send({
      method: 'POST',
      path,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ [to]: items }),
    });
  } catch (error) {
    return { ok: false, got: `no answer: ${error instanceof WireFailure ? error.message : String(error)}` };
  }
  if (res.status !== 200) return { ok: false, got: `${describe(res)} ${res.text.slice(0, 200)}` };
  const receiptJws = (res.json as { receipt?: unknown } | undefined)?.receipt;
  if (typeof receiptJws !== 'string')
    return { ok: false, got: `200 without a receipt: ${res.text.slice(0, 200)}` };
  const receipt = decodeReceipt(receiptJws);
  if (receipt === undefined) return { ok: false, got: 'the receipt is not a JWS with a JSON payload' };
  const checked = await checkReceipt(receiptJws, items, {
    home: kit.home,
    partner: kit.target,
    at: new Date(),
    names: to === 'records' ? 'recordId' : 'summaryId',
  });
  // Only a receipt that proves delivery says what the target holds: the run withdraws those operators at its end.
  if (to === 'records' && checked.ok) remember(kit, items, receipt);
  return {
    ok: true,
    receiptJws,
    receipt,
    receiptProblem: checked.ok ? undefined : `${checked.code}: ${checked.detail}`,
  };
}

/** Keeps the newest accepted record of each kit operator, so that the run can withdraw them at its end. */
function remember(kit: Kit, items: readonly string[], receipt: Receipt): void {
  for (const r of receipt.results) {
    if (r.outcome !== 'accepted' || typeof r.index !== 'number') continue;
    const record = payloadOf(items[r.index] ?? '');
    if (record?.issuer !== kit.home || typeof record.operator?.aeoId !== 'string') continue;
    const held = kit.held.get(record.operator.aeoId);
    if (held === undefined || held.version < record.version) kit.held.set(record.operator.aeoId, record);
  }
}

/** The payload of a compact JWS, read without any check (the kit's own records, or for display). */
export function payloadOf(jws: string): AeoStatusRecord | undefined {
  try {
    return JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as AeoStatusRecord;
  } catch {
    return undefined;
  }
}

function decodeReceipt(jws: string): Receipt | undefined {
  try {
    const payload = JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as Receipt;
    return Array.isArray(payload?.results) ? payload : undefined;
  } catch {
    return undefined;
  }
}

/** The result for index `i` as one line: outcome and code. */
export function outcomeText(r: ReceiptResult | undefined): string {
  if (r === undefined) return 'no result at this index';
  return r.outcome === 'rejected' ? `rejected ${r.code ?? '(no code)'}` : r.outcome;
}

/** Why the result at `i` is not `expected` (an outcome, or `rejected CODE`) for `sent[i]`, or undefined. */
export function resultProblem(
  batch: Batch,
  sent: readonly string[],
  i: number,
  expected: string,
): string | undefined {
  if (!batch.ok) return batch.got;
  const r = batch.receipt.results[i];
  const got = outcomeText(r);
  if (r === undefined || r.index !== i) return `${got} (result ${i} missing or out of order)`;
  if (r.digest !== recordDigest(sent[i]!)) return `${got}, but the digest is not that of the record sent`;
  if (got !== expected) return `${got}${r.detail ? ` (${r.detail.slice(0, 160)})` : ''}`;
  if (r.outcome === 'rejected' && typeof r.detail !== 'string') return `${got} without a detail`;
  return undefined;
}
