/**
 * Border lookups counted per partner (issuer), UTC day and outcome, for the monitoring reviews. Lookups are
 * the hot path (thousands a second), so an answer costs one array increment here; the counts are added to
 * `lookup_daily` with an additive upsert every few seconds and at a clean stop. Replicas each add their own.
 * A crash loses the counts of the seconds since the last flush, never an answer.
 */
import { NOT_RECOGNISED_REASONS, type NotRecognisedReason } from '../mra/recognition.ts';
import type { Sql } from '../store/types.ts';

export const LOOKUP_FLUSH_INTERVAL_MS = 5_000;
const DAY_MS = 86_400_000;
/** Slot 0 counts recognised answers; slot 1 + i the reason NOT_RECOGNISED_REASONS[i]. */
const OUTCOMES = ['recognised', ...NOT_RECOGNISED_REASONS] as const;
const SLOT = new Map<NotRecognisedReason, number>(NOT_RECOGNISED_REASONS.map((r, i) => [r, i + 1]));

type DayCounts = Map<string, Float64Array>;

export class LookupCounts {
  /** Issuers counted: the configured partners; a lookup of any other issuer is not counted. */
  private readonly partners: ReadonlySet<string>;
  private readonly clock: () => number;
  private days = new Map<string, DayCounts>();
  private day = '';
  private dayEnds = 0;
  private current: DayCounts = new Map();
  private flushing: Promise<void> = Promise.resolve();
  /** Every answer since the start by outcome, whatever the issuer, never flushed: the metrics' counter. */
  private readonly totals = new Float64Array(OUTCOMES.length);

  constructor(partners: Iterable<string>, clock: () => number = Date.now) {
    this.partners = new Set(partners);
    this.clock = clock;
  }

  /** One answer about `issuer`: recognised (reason undefined) or not, with its reason. */
  count(issuer: string | undefined, reason: NotRecognisedReason | undefined): void {
    const outcome = reason === undefined ? 0 : (SLOT.get(reason) ?? 0);
    this.totals[outcome] = (this.totals[outcome] ?? 0) + 1;
    if (issuer === undefined || !this.partners.has(issuer)) return;
    const now = this.clock();
    if (now >= this.dayEnds || now < this.dayEnds - DAY_MS) this.turnDay(now);
    let slots = this.current.get(issuer);
    if (slots === undefined) {
      slots = new Float64Array(OUTCOMES.length);
      this.current.set(issuer, slots);
    }
    slots[outcome] = (slots[outcome] ?? 0) + 1;
  }

  /** Answers since the start, by outcome (metrics). */
  totalsByOutcome(): Map<string, number> {
    return new Map(OUTCOMES.map((o, i) => [o, this.totals[i] ?? 0]));
  }

  private turnDay(now: number): void {
    const start = now - (now % DAY_MS);
    this.day = new Date(start).toISOString().slice(0, 10);
    this.dayEnds = start + DAY_MS;
    let counts = this.days.get(this.day);
    if (counts === undefined) {
      counts = new Map();
      this.days.set(this.day, counts);
    }
    this.current = counts;
  }

  /** Counts not yet written, as rows; for tests and the flush. */
  pending(): { issuer: string; day: string; outcome: string; count: number }[] {
    const rows: { issuer: string; day: string; outcome: string; count: number }[] = [];
    for (const [day, counts] of this.days) {
      for (const [issuer, slots] of counts) {
        slots.forEach((n, i) => {
          if (n > 0) rows.push({ issuer, day, outcome: OUTCOMES[i] ?? 'unknown', count: n });
        });
      }
    }
    return rows;
  }

  /**
   * Adds the counts so far to the table, one statement; flushes run one at a time. Counts taken out before a
   * failed write are put back, so a store outage delays them without losing them.
   */
  flush(sql: Sql): Promise<void> {
    // A failed flush rejects its own caller only; the next one runs all the same.
    this.flushing = this.flushing
      .catch(() => undefined)
      .then(async () => {
        const rows = this.pending();
        this.days = new Map();
        this.dayEnds = 0;
        if (rows.length === 0) return;
        try {
          await sql.query(
            `INSERT INTO lookup_daily (issuer, day, outcome, count)
           SELECT r.issuer, r.day, r.outcome, r.count
             FROM jsonb_to_recordset($1::jsonb) AS r(issuer text, day date, outcome text, count bigint)
           ON CONFLICT (issuer, day, outcome) DO UPDATE SET count = lookup_daily.count + EXCLUDED.count`,
            [JSON.stringify(rows)],
          );
        } catch (error) {
          for (const r of rows) this.restore(r.issuer, r.day, r.outcome, r.count);
          throw error;
        }
      });
    return this.flushing;
  }

  private restore(issuer: string, day: string, outcome: string, n: number): void {
    let counts = this.days.get(day);
    if (counts === undefined) {
      counts = new Map();
      this.days.set(day, counts);
    }
    let slots = counts.get(issuer);
    if (slots === undefined) {
      slots = new Float64Array(OUTCOMES.length);
      counts.set(issuer, slots);
    }
    const i = Math.max(0, (OUTCOMES as readonly string[]).indexOf(outcome));
    slots[i] = (slots[i] ?? 0) + n;
  }
}
