/**
 * Reporting periods: whole UTC days, both ends included (docs/protocol.md, "Monitoring summaries"). One check
 * for the report's query and for a summary's period, so that both refuse the same inputs with the same codes.
 */
import { GatewayError } from '../errors.ts';
import { MAX_PERIOD_DAYS, type Period } from '../protocol/monitoring-summary.ts';
import { isProtocolDate } from '../validation.ts';

const DAY_MS = 86_400_000;
const LAST_INSTANT = Date.parse('9999-12-31T23:59:59.999Z');

/** UTC midnight that starts `date` (YYYY-MM-DD). */
export function dayStart(date: string): Date {
  return new Date(`${date}T00:00:00Z`);
}

/**
 * UTC midnight after `date`: the exclusive end of a period ending on it. After 9999-12-31 it is that day's last
 * millisecond instead, as no date or timestamp of the exchange (nor the store) goes past the year 9999.
 */
export function dayAfter(date: string): Date {
  return new Date(Math.min(dayStart(date).getTime() + DAY_MS, LAST_INSTANT));
}

/** The UTC day (YYYY-MM-DD) of an instant. */
export function dayOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** Every day of the period, in order. */
export function daysOf(period: Period): string[] {
  const days: string[] = [];
  const end = dayStart(period.to).getTime();
  // Bounded by the period check: at most MAX_PERIOD_DAYS iterations.
  for (let t = dayStart(period.from).getTime(); t <= end && days.length < MAX_PERIOD_DAYS; t += DAY_MS) {
    days.push(dayOf(new Date(t)));
  }
  return days;
}

/**
 * The instant a period's standing figures are taken at: the end of its last day, or `now` when that is
 * earlier (a period that has not ended yet).
 */
export function periodInstant(period: Period, now: Date): Date {
  const end = new Date(dayStart(period.to).getTime() + DAY_MS - 1);
  return end < now ? end : now;
}

/** Checks a period given as text; throws BAD_REQUEST naming what is wrong. */
export function checkPeriod(from: unknown, to: unknown): Period {
  for (const [name, value] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (typeof value !== 'string' || !isProtocolDate(value)) {
      throw new GatewayError('BAD_REQUEST', `${name} must be a date YYYY-MM-DD in the years 1900 to 9999`);
    }
  }
  const period = { from: from as string, to: to as string };
  if (period.from > period.to) throw new GatewayError('BAD_REQUEST', 'from must not be after to');
  const days = (dayStart(period.to).getTime() - dayStart(period.from).getTime()) / DAY_MS + 1;
  if (days > MAX_PERIOD_DAYS) {
    throw new GatewayError('BAD_REQUEST', `a period covers at most ${MAX_PERIOD_DAYS} days`);
  }
  return period;
}
