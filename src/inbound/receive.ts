/**
 * Inbound flow: a partner's batch of signed AEO status records → per-record judgement → evidence and current
 * state committed in one transaction with the signed receipt → the receipt. Nothing is acknowledged before
 * the commit (I2); a retried batch gets `duplicate` outcomes (PROTOCOL.md).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { GatewayConfig, Partner } from '../config/types.ts';
import { type ChainCache, createChainCache } from '../crypto/chain.ts';
import type { Sql, Store } from '../store/types.ts';
import { changeOf, type InboundChange } from './change.ts';
import { type Decision, decide } from './decide.ts';
import { loadHeld, lockBatch, writeDecisions } from './evidence.ts';
import { type Candidate, judgeBatch } from './judge.ts';
import { type Receipt, resultOf, signReceipt } from './receipt.ts';

export interface ReceiveRequest {
  records: readonly string[];
  /** adminId of the partner mTLS identified, when mTLS is on. */
  tlsPeer: string | undefined;
}

export interface ReceiveResult {
  receipt: Receipt;
  receiptJws: string;
}

export interface InboundDeps {
  config: GatewayConfig;
  store: Store;
  log: Logger;
  clock?: () => Date;
  /** Told of every committed batch, after the commit (the lookup read model); must not throw. */
  onCommitted?: (change: InboundChange) => void;
  /** Runs inside the batch's transaction, before the current state is replaced (notification rows, I1). */
  inTransaction?: (tx: Sql, decisions: readonly Decision[], receivedAt: Date) => Promise<void>;
}

export interface InboundService {
  receive(request: ReceiveRequest): Promise<ReceiveResult>;
  /** The chain cache shared by every verification of partner signatures. */
  readonly chainCache: ChainCache;
}

export function createInboundService(deps: InboundDeps): InboundService {
  const partners: ReadonlyMap<string, Partner> = new Map(deps.config.partners.map((p) => [p.adminId, p]));
  const chainCache = createChainCache(1024);
  const clock = deps.clock ?? (() => new Date());

  async function receive(request: ReceiveRequest): Promise<ReceiveResult> {
    const now = clock();
    const { sender, judged } = await judgeBatch(request.records, {
      partners,
      tlsPeer: request.tlsPeer,
      now,
      cache: chainCache,
    });
    const candidates = judged.filter((j): j is Candidate => j.outcome === 'candidate');
    const signer = deps.config.home.signers[0]!;

    const result = await deps.store.transaction(async (tx) => {
      await lockBatch(tx, candidates);
      const decisions = decide(judged, await loadHeld(tx, candidates));
      const receipt: Receipt = {
        schema: 'aeo-receipt/1',
        receiptId: randomUUID(),
        sender,
        receiver: deps.config.home.adminId,
        receivedAt: now.toISOString(),
        results: decisions.map(resultOf),
      };
      const receiptJws = await signReceipt(receipt, signer);
      await deps.inTransaction?.(tx, decisions, now);
      await writeDecisions(
        tx,
        { receiptId: receipt.receiptId, sender, receivedAt: now, receiptJws },
        decisions,
      );
      return { receipt, receiptJws, decisions };
    });
    deps.onCommitted?.(changeOf(sender, now, result.decisions));

    logOutcomes(deps.log, result.receipt);
    return { receipt: result.receipt, receiptJws: result.receiptJws };
  }

  return { receive, chainCache };
}

function logOutcomes(log: Logger, receipt: Receipt): void {
  const counts: Record<string, number> = {};
  for (const r of receipt.results) {
    const key = r.outcome === 'rejected' ? `rejected:${r.code}` : r.outcome;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  log.info(
    { receiptId: receipt.receiptId, sender: receipt.sender, outcomes: counts },
    'records batch received',
  );
  for (const r of receipt.results) {
    if (r.code === 'RECORD_ID_CONFLICT') {
      log.warn(
        { security: true, sender: receipt.sender, recordId: r.recordId },
        'recordId re-used for another payload',
      );
    }
  }
}
