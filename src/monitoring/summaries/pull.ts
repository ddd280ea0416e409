/**
 * Catch-up from a partner's summary feed (`GET <endpoint>/monitoring`): what the partner reported about our
 * operators, in case a push never arrived. Pulled summaries go through the very receive path of pushed ones
 * (judgement, evidence, stored receipt, audit), with the partner as sender, so one already pushed is simply a
 * `duplicate`. The cursor is saved after that commit: a crash in between only pulls a page again.
 */
import type { Logger } from 'pino';
import type { Partner } from '../../mra/types.ts';
import type { PartnerFetcher } from '../../partner-client/fetch.ts';
import { feedPageOf, pullPositions } from '../../partner-client/pull-position.ts';
import type { Store } from '../../store/types.ts';
import { MAX_SUMMARY_PAGE } from './feed.ts';
import type { SummaryReceiver } from './receive.ts';

/** Pages per run: a long backlog is taken in several runs rather than one unbounded loop. */
const MAX_PAGES = 20;

export interface SummaryPullReport {
  partner: string;
  pages: number;
  summaries: number;
  outcomes: Record<string, number>;
  cursor: string | null;
  error: string | null;
}

export interface SummaryPullDeps {
  store: Store;
  fetcher: PartnerFetcher;
  receive: SummaryReceiver;
  log: Logger;
  clock: () => Date;
}

export function createSummaryPuller(deps: SummaryPullDeps) {
  const positions = pullPositions(deps.store, 'monitoring_summary_pull', deps);
  async function pull(partner: Partner): Promise<SummaryPullReport> {
    const report: SummaryPullReport = {
      partner: partner.adminId,
      pages: 0,
      summaries: 0,
      outcomes: {},
      cursor: null,
      error: null,
    };
    try {
      report.cursor = await positions.load(partner.adminId);
      let caughtUp = false;
      while (report.pages < MAX_PAGES && !caughtUp) {
        const query = new URLSearchParams({ limit: String(MAX_SUMMARY_PAGE) });
        if (report.cursor !== null) query.set('after', report.cursor);
        const got = await deps.fetcher.get(partner, `/monitoring?${query}`);
        if (!got.ok) throw new Error(`monitoring: ${got.reason}`);
        const { items: summaries, next } = feedPageOf(got.body, 'summaries', MAX_SUMMARY_PAGE);
        if (summaries.length > 0) {
          const { receipt } = await deps.receive({ summaries, tlsPeer: partner.adminId });
          for (const r of receipt.results) {
            const key = r.outcome === 'rejected' ? `rejected:${r.code}` : r.outcome;
            report.outcomes[key] = (report.outcomes[key] ?? 0) + 1;
          }
        }
        await positions.save(partner.adminId, next);
        report.cursor = next;
        report.pages += 1;
        report.summaries += summaries.length;
        caughtUp = summaries.length < MAX_SUMMARY_PAGE;
      }
    } catch (error) {
      report.error = error instanceof Error ? error.message : String(error);
      await positions.saveError(partner.adminId, report.error);
      deps.log.warn({ partner: partner.adminId, error: report.error }, 'monitoring summary pull failed');
    }
    return report;
  }

  return { pull };
}
