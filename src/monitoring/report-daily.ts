/** One point per UTC day of the report's period, for the charts (docs/monitoring.md). */
import type { Period } from '../protocol/monitoring-summary.ts';
import type { Sql } from '../store/types.ts';
import { dayAfter, dayStart, daysOf } from './period.ts';
import type { DailyPoint } from './report-types.ts';

type Figure = Exclude<keyof DailyPoint, 'date'>;

export async function dailyPoints(sql: Sql, partner: string, period: Period): Promise<DailyPoint[]> {
  const from = dayStart(period.from).toISOString();
  const until = dayAfter(period.to).toISOString();
  const points = new Map<string, DailyPoint>(
    daysOf(period).map((date) => [
      date,
      {
        date,
        recordsReceived: 0,
        recordsPublished: 0,
        lookups: 0,
        lookupsRecognised: 0,
        benefitsApplied: 0,
        benefitsRefused: 0,
      },
    ]),
  );
  const add = (rows: readonly { day: string; n: string }[], figure: Figure) => {
    for (const r of rows) {
      const point = points.get(r.day);
      if (point !== undefined) point[figure] += Number(r.n);
    }
  };
  const utcDay = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;
  add(
    await sql.query(
      `SELECT ${utcDay('received_at')} AS day, sum(record_count)::text AS n FROM inbound_receipt
        WHERE sender = $1 AND received_at >= $2 AND received_at < $3 GROUP BY 1`,
      [partner, from, until],
    ),
    'recordsReceived',
  );
  add(
    await sql.query(
      `SELECT ${utcDay('created_at')} AS day, count(*)::text AS n FROM outbox
        WHERE partner = $1 AND created_at >= $2 AND created_at < $3 GROUP BY 1`,
      [partner, from, until],
    ),
    'recordsPublished',
  );
  const lookups = await sql.query<{ day: string; recognised: boolean; n: string }>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, outcome = 'recognised' AS recognised, sum(count)::text AS n
       FROM lookup_daily WHERE issuer = $1 AND day >= $2::date AND day <= $3::date GROUP BY 1, 2`,
    [partner, period.from, period.to],
  );
  add(lookups, 'lookups');
  add(
    lookups.filter((r) => r.recognised),
    'lookupsRecognised',
  );
  const feedback = await sql.query<{ day: string; applied: boolean; n: string }>(
    `SELECT ${utcDay('at')} AS day, applied, count(*)::text AS n FROM border_feedback
      WHERE issuer = $1 AND at >= $2 AND at < $3 GROUP BY 1, 2`,
    [partner, from, until],
  );
  add(
    feedback.filter((r) => r.applied),
    'benefitsApplied',
  );
  add(
    feedback.filter((r) => !r.applied),
    'benefitsRefused',
  );
  return [...points.values()];
}
