/**
 * What the live dashboard shows (GET /dashboard/data): each partner's freshness and queues, the
 * notifications to border systems, the monitoring summaries both ways, and the last 30 UTC days of
 * recognition, benefits, records and latency. Read straight from the tables the flows write; nothing here is
 * cached, so a refresh shows the last committed event.
 */
import type { Partner } from '../mra/types.ts';
import type { Sql } from '../store/types.ts';
import { dayOf, daysOf } from './period.ts';

export const DASHBOARD_DAYS = 30;
/** Delivery states of the outbox and of notifications (migrations 003 and 006), in the dashboard's order. */
export const QUEUE_STATES = ['pending', 'retrying', 'delivered', 'dead'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];
export type StateCounts = Record<QueueState, number>;

export interface PartnerPanel {
  adminId: string;
  name: string | null;
  mraId: string;
  mraStatus: string;
  lastReceiptAt: string | null;
  lastPulledAt: string | null;
  lastPullError: string | null;
  lastReconciliation: { at: string; inSync: boolean } | null;
  operatorsHeld: number;
  outbox: StateCounts;
  summaries: { received: number; lastReceivedAt: string | null; issued: number; undelivered: number };
}

export interface DashboardDay {
  date: string;
  lookups: number;
  lookupsRecognised: number;
  benefitsApplied: number;
  benefitsRefused: number;
  recordsReceived: number;
  recordsPublished: number;
  /** Our records, from signing to the partner's receipt, delivered that day; null: none. */
  toReceiptP50Ms: number | null;
  toReceiptP95Ms: number | null;
  /** Partners' records, from their issuedAt to our receipt, received that day; null: none. */
  receivedP50Ms: number | null;
  receivedP95Ms: number | null;
}

export interface DashboardData {
  generatedAt: string;
  home: string;
  partners: PartnerPanel[];
  notifications: StateCounts;
  days: DashboardDay[];
}

function emptyStates(): StateCounts {
  return { pending: 0, retrying: 0, delivered: 0, dead: 0 };
}

function isQueueState(value: string): value is QueueState {
  return (QUEUE_STATES as readonly string[]).includes(value);
}

/** A timestamp from the store (a Date from node-postgres, a Date or text from the embedded store). */
function iso(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const date = value instanceof Date ? value : new Date(String(value));
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

function num(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? Math.round(n) : null;
}

/** Rows keyed by their first column, for the per-partner and per-day joins below. */
async function keyed(
  sql: Sql,
  text: string,
  params: readonly unknown[] = [],
): Promise<Map<string, Record<string, unknown>>> {
  const rows = await sql.query<Record<string, unknown>>(text, params);
  return new Map(rows.map((row) => [String(row.k), row]));
}

async function partnerPanels(sql: Sql, partners: readonly Partner[]): Promise<PartnerPanel[]> {
  // One query after the other: a dashboard left open must not take several of the pool's connections at once.
  const receipts = await keyed(
    sql,
    'SELECT sender AS k, max(received_at) AS at FROM inbound_receipt WHERE sender IS NOT NULL GROUP BY sender',
  );
  const pulls = await keyed(sql, 'SELECT partner AS k, pulled_at AS at, last_error FROM partner_feed');
  const reconciliations = await keyed(
    sql,
    'SELECT DISTINCT ON (partner) partner AS k, at, in_sync FROM reconciliation ORDER BY partner, at DESC, id DESC',
  );
  const held = await keyed(sql, 'SELECT issuer AS k, count(*)::int AS n FROM operator_state GROUP BY issuer');
  const summariesIn = await keyed(
    sql,
    'SELECT reporter AS k, count(*)::int AS n, max(received_at) AS at FROM monitoring_summary_in GROUP BY reporter',
  );
  const summariesOut = await keyed(
    sql,
    `SELECT subject AS k, count(*)::int AS n,
         count(*) FILTER (WHERE delivered_at IS NULL AND rejected_code IS NULL)::int AS undelivered
       FROM monitoring_summary_out GROUP BY subject`,
  );
  const outboxRows = await sql.query<{ partner: string; state: string; n: number }>(
    'SELECT partner, state, count(*)::int AS n FROM outbox GROUP BY partner, state',
  );
  return partners.map((partner) => {
    const id = partner.adminId;
    const outbox = emptyStates();
    for (const row of outboxRows) {
      if (row.partner === id && isQueueState(row.state)) outbox[row.state] = Number(row.n);
    }
    const reconciliation = reconciliations.get(id);
    const reconciledAt = iso(reconciliation?.at);
    const pull = pulls.get(id);
    const lastError = pull?.last_error;
    return {
      adminId: id,
      name: partner.name ?? null,
      mraId: partner.mra.id,
      mraStatus: partner.mra.status,
      lastReceiptAt: iso(receipts.get(id)?.at),
      lastPulledAt: iso(pull?.at),
      lastPullError: typeof lastError === 'string' ? lastError : null,
      lastReconciliation:
        reconciledAt === null ? null : { at: reconciledAt, inSync: reconciliation?.in_sync === true },
      operatorsHeld: num(held.get(id)?.n) ?? 0,
      outbox,
      summaries: {
        received: num(summariesIn.get(id)?.n) ?? 0,
        lastReceivedAt: iso(summariesIn.get(id)?.at),
        issued: num(summariesOut.get(id)?.n) ?? 0,
        undelivered: num(summariesOut.get(id)?.undelivered) ?? 0,
      },
    };
  });
}

const UTC_DAY = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;

async function dailySeries(sql: Sql, now: Date): Promise<DashboardDay[]> {
  const from = dayOf(new Date(now.getTime() - (DASHBOARD_DAYS - 1) * 86_400_000));
  const days = daysOf({ from, to: dayOf(now) });
  const since = `${from}T00:00:00Z`;
  const lookups = await keyed(
    sql,
    `SELECT to_char(day, 'YYYY-MM-DD') AS k, sum(count)::bigint::text AS total,
       coalesce(sum(count) FILTER (WHERE outcome = 'recognised'), 0)::bigint::text AS recognised
     FROM lookup_daily WHERE day >= $1::date GROUP BY day`,
    [from],
  );
  const benefits = await keyed(
    sql,
    `SELECT ${UTC_DAY('at')} AS k, count(*) FILTER (WHERE applied)::int AS applied,
       count(*) FILTER (WHERE NOT applied)::int AS refused
     FROM border_feedback WHERE at >= $1::timestamptz GROUP BY 1`,
    [since],
  );
  const received = await keyed(
    sql,
    `SELECT ${UTC_DAY('received_at')} AS k, count(*)::int AS n, ${percentilesMs('received_at - issued_at')}
     FROM inbound_record WHERE received_at >= $1::timestamptz GROUP BY 1`,
    [since],
  );
  const published = await keyed(
    sql,
    `SELECT ${UTC_DAY('created_at')} AS k, count(*)::int AS n FROM outbox WHERE created_at >= $1::timestamptz GROUP BY 1`,
    [since],
  );
  const toReceipt = await keyed(
    sql,
    `SELECT ${UTC_DAY('o.delivered_at')} AS k, ${percentilesMs('o.delivered_at - r.created_at')}
     FROM outbox o JOIN home_record r ON r.seq = o.record_seq
     WHERE o.delivered_at >= $1::timestamptz GROUP BY 1`,
    [since],
  );
  return days.map((date) => ({
    date,
    lookups: num(lookups.get(date)?.total) ?? 0,
    lookupsRecognised: num(lookups.get(date)?.recognised) ?? 0,
    benefitsApplied: num(benefits.get(date)?.applied) ?? 0,
    benefitsRefused: num(benefits.get(date)?.refused) ?? 0,
    recordsReceived: num(received.get(date)?.n) ?? 0,
    recordsPublished: num(published.get(date)?.n) ?? 0,
    toReceiptP50Ms: num(toReceipt.get(date)?.p50),
    toReceiptP95Ms: num(toReceipt.get(date)?.p95),
    receivedP50Ms: num(received.get(date)?.p50),
    receivedP95Ms: num(received.get(date)?.p95),
  }));
}

/** The 50th and 95th percentiles (nearest rank) of an interval, in whole milliseconds, as p50 and p95. */
function percentilesMs(interval: string): string {
  const ms = `greatest(0, extract(epoch FROM ${interval}) * 1000)`;
  return `round(percentile_disc(0.5) WITHIN GROUP (ORDER BY ${ms}))::float8 AS p50,
     round(percentile_disc(0.95) WITHIN GROUP (ORDER BY ${ms}))::float8 AS p95`;
}

export async function dashboardData(
  sql: Sql,
  input: { home: string; partners: readonly Partner[]; now: Date },
): Promise<DashboardData> {
  const partners = await partnerPanels(sql, input.partners);
  const notificationRows = await sql.query<{ state: string; n: number }>(
    'SELECT state, count(*)::int AS n FROM notification GROUP BY state',
  );
  const days = await dailySeries(sql, input.now);
  const notifications = emptyStates();
  for (const row of notificationRows) {
    if (isQueueState(row.state)) notifications[row.state] = Number(row.n);
  }
  return { generatedAt: input.now.toISOString(), home: input.home, partners, notifications, days };
}
