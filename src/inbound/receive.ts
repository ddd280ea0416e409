/**
 * Inbound flow: a partner's batch of signed AEO status records → per-record judgement → evidence and current
 * state committed in one transaction with the signed receipt → the receipt. Nothing is acknowledged before
 * the commit (I2); a retried batch gets `duplicate` outcomes (docs/protocol.md).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { appendAudit, receiptSentEntry } from '../audit/chain.ts';
import type { GatewayConfig } from '../config/types.ts';
import { type ChainCache, createChainCache } from '../crypto/chain-cache.ts';
import { verifyPool } from '../crypto/verify-pool.ts';
import type { GatewayMetrics } from '../metrics/metrics.ts';
import type { Partner } from '../mra/types.ts';
import type { Receipt } from '../protocol/receipt.ts';
import { isDataException } from '../store/data-error.ts';
import type { Sql, Store } from '../store/types.ts';
import { changeOf, type InboundChange } from './change.ts';
import { loadHeld, lockBatch, writeVerdicts } from './evidence.ts';
import { type Candidate, type Judged, judgeBatch } from './judge.ts';
import { logReceiptOutcomes, resultOf, signReceipt } from './receipt.ts';
import { judgeAgainstHeld, type Verdict } from './verdict.ts';

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
  /**
   * Runs inside the batch's transaction (notification rows, I1). Its first statement is sent before the
   * statements that replace the current state, so it reads the state they replace; the writes go out behind it
   * at once, so any later statement of the hook sees them. What it returns runs once the batch has committed,
   * never after a rollback; it must not throw.
   */
  inTransaction?: (
    tx: Sql,
    verdicts: readonly Verdict[],
    receivedAt: Date,
  ) => Promise<(() => void) | undefined>;
  metrics?: GatewayMetrics;
}

export interface InboundService {
  receive(request: ReceiveRequest): Promise<ReceiveResult>;
  /** The chain cache shared by every verification of partner signatures. */
  readonly chainCache: ChainCache;
}

export function createInboundService(deps: InboundDeps): InboundService {
  const partners: ReadonlyMap<string, Partner> = new Map(deps.config.partners.map((p) => [p.adminId, p]));
  const chainCache = createChainCache(1024);
  // Partners' batches are verified on the verification pool: its workers start now, not with the first batch.
  verifyPool().warm();
  const clock = deps.clock ?? (() => new Date());

  async function receive(request: ReceiveRequest): Promise<ReceiveResult> {
    const now = clock();
    const { sender, judged } = await judgeBatch(request.records, {
      partners,
      tlsPeer: request.tlsPeer,
      now,
      cache: chainCache,
    });
    let result: Committed;
    try {
      result = await commit(sender, judged, now);
    } catch (error) {
      // The schemas keep every value in what PostgreSQL holds; should one still slip through, that record
      // alone is refused and the batch goes on, the same on every retry (docs/threats.md 73).
      if (!isDataException(error)) throw error;
      const unstorable = await unstorableOf(deps.store, sender, judged, now);
      if (unstorable.size === 0) throw error;
      const rejudged = judged.map(
        (j): Judged => (unstorable.has(j.index) ? asUnstorable(j as Candidate) : j),
      );
      result = await commit(sender, rejudged, now);
    }
    deps.onCommitted?.(changeOf(sender, now, result.verdicts));
    result.afterCommit?.();

    logReceiptOutcomes(deps.log, result.receipt, 'records');
    deps.metrics?.batchReceived(sender, result.receipt.results);
    return { receipt: result.receipt, receiptJws: result.receiptJws };
  }

  async function commit(sender: string | null, judged: readonly Judged[], now: Date): Promise<Committed> {
    const candidates = judged.filter((j): j is Candidate => j.outcome === 'candidate');
    const signer = deps.config.home.signers[0]!;
    return deps.store.transaction(async (tx) => {
      // The locks go out with the read of what is held, which PostgreSQL runs once they are taken.
      const [, held] = await Promise.all([lockBatch(tx, candidates), loadHeld(tx, candidates)]);
      const verdicts = judgeAgainstHeld(judged, held);
      const receipt: Receipt = {
        schema: 'aeo-receipt/1',
        receiptId: randomUUID(),
        sender,
        receiver: deps.config.home.adminId,
        receivedAt: now.toISOString(),
        results: verdicts.map(resultOf),
      };
      const receiptJws = await signReceipt(receipt, signer);
      // The hook's first statement is sent before the verdicts' writes, so it reads the state they replace;
      // the writes go out behind it without waiting for its answer.
      const [afterCommit] = await Promise.all([
        deps.inTransaction?.(tx, verdicts, now),
        writeVerdicts(tx, { receiptId: receipt.receiptId, sender, receivedAt: now, receiptJws }, verdicts),
      ]);
      // Last, as every batch waits on the chain's lock until this one commits. The receipt lists each
      // record's digest, so this one entry anchors the whole batch.
      await appendAudit(tx, receiptSentEntry(sender, receipt.receiptId, receiptJws));
      return { receipt, receiptJws, verdicts, afterCommit };
    });
  }

  return { receive, chainCache };
}

interface Committed {
  receipt: Receipt;
  receiptJws: string;
  verdicts: Verdict[];
  /** What the transaction's hook asked to run once committed (inTransaction). */
  afterCommit: (() => void) | undefined;
}

/** Thrown to roll a probe back. */
const PROBE_DONE = Symbol('probe done');

/**
 * The candidates whose values the store refuses, each written alone in a transaction that is rolled back.
 * Runs only after a batch failed with a data exception, so its cost is never paid by a sound batch.
 */
async function unstorableOf(
  store: Store,
  sender: string | null,
  judged: readonly Judged[],
  now: Date,
): Promise<Set<number>> {
  const unstorable = new Set<number>();
  for (const j of judged) {
    if (j.outcome !== 'candidate') continue;
    try {
      await store.transaction(async (tx) => {
        const receipt = { receiptId: randomUUID(), sender, receivedAt: now, receiptJws: '' };
        await writeVerdicts(tx, receipt, [{ ...j, result: 'accepted' }]);
        throw PROBE_DONE;
      });
    } catch (error) {
      // Any other failure (a key already held, the store away) says nothing of this record's values.
      if (isDataException(error)) unstorable.add(j.index);
    }
  }
  return unstorable;
}

function asUnstorable(c: Candidate): Judged {
  return {
    outcome: 'rejected',
    index: c.index,
    digest: c.digest,
    recordId: c.record.recordId,
    code: 'SCHEMA_INVALID',
    detail: 'payload holds a value outside what the protocol allows',
  };
}
