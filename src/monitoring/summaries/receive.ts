/**
 * Receiving a partner's monitoring summaries, pushed (`POST /mra/v1/monitoring`) or pulled from its feed: each
 * judged by the whole chain of rules, then against what is held, then the kept ones, the signed receipt and
 * their audit entries committed in one transaction before the receipt leaves (as for records).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../../config/types.ts';
import type { ChainCache } from '../../crypto/chain-cache.ts';
import { logReceiptOutcomes, signReceipt } from '../../inbound/receipt.ts';
import type { Partner } from '../../mra/types.ts';
import type { Receipt, ReceiptResult } from '../../protocol/receipt.ts';
import type { Store } from '../../store/types.ts';
import { loadHeldSummaries, lockSummaries, writeSummaryVerdicts } from './evidence.ts';
import { judgeSummaries, type SummaryCandidate } from './judge.ts';
import { judgeSummariesAgainstHeld, type SummaryVerdict } from './verdict.ts';

/** docs/protocol.md: 1 to 100 summaries a request. */
export const MAX_SUMMARY_BATCH = 100;

export interface SummaryReceiveRequest {
  summaries: readonly string[];
  /** adminId of the partner mTLS identified (or whose feed was pulled). */
  tlsPeer: string | undefined;
}

export interface SummaryReceiveResult {
  receipt: Receipt;
  receiptJws: string;
}

export interface SummaryReceiverDeps {
  config: GatewayConfig;
  store: Store;
  log: Logger;
  cache: ChainCache;
  clock: () => Date;
}

export type SummaryReceiver = (request: SummaryReceiveRequest) => Promise<SummaryReceiveResult>;

export function createSummaryReceiver(deps: SummaryReceiverDeps): SummaryReceiver {
  const partners: ReadonlyMap<string, Partner> = new Map(deps.config.partners.map((p) => [p.adminId, p]));
  const home = deps.config.home.adminId;

  return async function receive(request) {
    const now = deps.clock();
    const { sender, judged } = await judgeSummaries(request.summaries, {
      partners,
      tlsPeer: request.tlsPeer,
      now,
      cache: deps.cache,
      home,
    });
    const candidates = judged.filter((j): j is SummaryCandidate => j.outcome === 'candidate');
    const signer = deps.config.home.signers[0];
    if (signer === undefined) throw new Error('no home signer is configured');
    const result = await deps.store.transaction(async (tx) => {
      await lockSummaries(tx);
      const verdicts = judgeSummariesAgainstHeld(judged, await loadHeldSummaries(tx, candidates));
      const receipt: Receipt = {
        schema: 'aeo-receipt/1',
        receiptId: randomUUID(),
        sender,
        receiver: home,
        receivedAt: now.toISOString(),
        results: verdicts.map(summaryResultOf),
      };
      const receiptJws = await signReceipt(receipt, signer);
      await writeSummaryVerdicts(
        tx,
        { receiptId: receipt.receiptId, sender, receivedAt: now, receiptJws },
        verdicts,
      );
      return { receipt, receiptJws };
    });
    logReceiptOutcomes(deps.log, result.receipt, 'summaries');
    return result;
  };
}

/** A receipt result for a summary: `summaryId` where it could be read, never `recordId`. */
export function summaryResultOf(d: SummaryVerdict): ReceiptResult {
  switch (d.outcome) {
    case 'rejected': {
      const rest = { digest: d.digest, outcome: 'rejected' as const, code: d.code, detail: d.detail };
      return d.summaryId === undefined
        ? { index: d.index, ...rest }
        : { index: d.index, summaryId: d.summaryId, ...rest };
    }
    case 'duplicate':
      return { index: d.index, summaryId: d.summaryId, digest: d.digest, outcome: 'duplicate' };
    case 'candidate':
      return { index: d.index, summaryId: d.summary.summaryId, digest: d.digest, outcome: d.result };
  }
}
