/**
 * `audit verify` and `retention run`: jobs on the store alone, without listening. `audit verify` exits 0 when
 * the chain and its evidence are intact, 1 when a link is broken (named on stderr), 2 when it cannot run.
 */
import { describeVerification, verifyAudit } from '../audit/verify.ts';
import { configPathFrom, loadConfig } from '../config/load.ts';
import { runRetention } from '../retention/retention.ts';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/types.ts';

async function withStore<T>(configFile: string | undefined, work: (store: Store) => Promise<T>): Promise<T> {
  const config = loadConfig(configPathFrom(configFile));
  const store = await openStore(config.storage);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

export async function auditVerifyCommand(opts: { config?: string }): Promise<number> {
  const result = await withStore(opts.config, (store) => verifyAudit(store));
  const e = result.evidence;
  const covered = `${e.inboundReceipts} inbound receipts, ${e.inboundRecords} inbound records, ${e.homeRecords} published records, ${e.outboundReceipts} partner receipts, ${e.summaries} summaries, ${e.summaryReceipts} summary receipts, ${e.operators} operator states, ${e.mraTerms} MRA terms, ${e.reconciliations} reconciliations (${e.redacted} redacted)`;
  if (result.broken !== undefined) {
    console.error(describeVerification(result));
    console.error(`checked before the break: ${result.entries} entries; ${covered}`);
    return 1;
  }
  console.log(describeVerification(result));
  console.log(`evidence verified: ${covered}`);
  return 0;
}

export async function retentionRunCommand(opts: { config?: string }): Promise<number> {
  const config = loadConfig(configPathFrom(opts.config));
  const counts = await withStore(opts.config, (store) => runRetention(store, config.retention));
  console.log(JSON.stringify(counts));
  return 0;
}
