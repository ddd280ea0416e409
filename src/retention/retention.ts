/**
 * Retention of personal data: the names, addresses and identifiers of operators withdrawn for longer than
 * `retention.withdrawnPersonalDataDays`, and the record texts (JWS) that carry them, are removed; digests,
 * versions, statuses, dates, roles, sizes and counts stay, so the monitoring figures still count and the audit
 * chain still verifies by the digests kept (src/audit/verify-evidence.ts).
 *
 * The period runs from the withdrawn record's `statusSince`, the one date both administrations hold alike:
 * with equal periods both sides remove an operator on the same day, and their snapshot digests stay equal
 * (the sender's snapshot leaves the operator out, and so does the receiver's local digest).
 *
 * One run is one transaction and one audit entry ('retention', detail = the counts). A home operator with a
 * delivery still open (pending or retrying) waits for the next run: its records must go out as signed.
 */
import type { Logger } from 'pino';
import { appendAudit, GATEWAY_ACTOR } from '../audit/chain.ts';
import { canonicalJson } from '../audit/encoding.ts';
import type { RetentionSettings } from '../config/retention.ts';
import { recordDigest } from '../crypto/digest.ts';
import { wasStopped } from '../store/stoppable.ts';
import type { Sql, Store } from '../store/types.ts';

export interface RetentionCounts {
  /** The day on or before which a withdrawal is old enough (UTC). */
  cutoff: string;
  foreignOperators: number;
  foreignRecords: number;
  identifiers: number;
  homeOperators: number;
  homeRecords: number;
}

const DAY_MS = 86_400_000;

/** What the operator documents keep: everything but the name, the address and the identifiers. */
const PERSONAL = `'{name,address,identifiers}'::text[]`;

export async function runRetention(
  store: Store,
  settings: Pick<RetentionSettings, 'withdrawnPersonalDataDays'>,
  now: Date = new Date(),
  /** A stop: the run is rolled back (SHUTTING_DOWN) and done again by the next one. */
  signal?: AbortSignal,
): Promise<RetentionCounts> {
  const cutoff = new Date(now.getTime() - settings.withdrawnPersonalDataDays * DAY_MS)
    .toISOString()
    .slice(0, 10);
  return store.transaction(
    async (tx) => {
      const counts = {
        cutoff,
        ...(await redactForeign(tx, cutoff, now)),
        ...(await redactHome(tx, cutoff, now)),
      };
      const entryDetail = { days: settings.withdrawnPersonalDataDays, ...counts };
      await appendAudit(tx, {
        kind: 'retention',
        actor: GATEWAY_ACTOR,
        subject: now.toISOString(),
        digest: recordDigest(canonicalJson(entryDetail)),
        detail: entryDetail,
      });
      return counts;
    },
    signal === undefined ? undefined : { signal },
  );
}

/** Partners' operators: operator_state withdrawn on or before the cutoff, with something left to remove. */
async function redactForeign(tx: Sql, cutoff: string, now: Date) {
  const at = now.toISOString();
  const due = `SELECT issuer, aeo_id FROM operator_state
     WHERE status = 'withdrawn' AND status_since <= $1::date
       AND (name IS NOT NULL OR redacted_at IS NULL
            OR EXISTS (SELECT 1 FROM inbound_record r
                        WHERE r.issuer = operator_state.issuer AND r.aeo_id = operator_state.aeo_id
                          AND r.jws IS NOT NULL))`;
  const operators = await tx.query<{ n: string }>(
    `WITH due AS (${due}) UPDATE operator_state s
        SET name = NULL, redacted_at = $2,
            payload = jsonb_set(s.payload, '{operator}', (s.payload->'operator') - ${PERSONAL})
       FROM due WHERE s.issuer = due.issuer AND s.aeo_id = due.aeo_id RETURNING 1 AS n`,
    [cutoff, at],
  );
  // Withdrawn operators just redacted (redacted_at = now), and those redacted before that received a record.
  const redacted = `SELECT issuer, aeo_id FROM operator_state WHERE status = 'withdrawn' AND status_since <= $1::date
     AND redacted_at IS NOT NULL`;
  const records = await tx.query<{ n: string }>(
    `WITH due AS (${redacted}) UPDATE inbound_record r
        SET redacted_at = $2, jws = NULL,
            kept_payload = (SELECT jsonb_set(p.doc, '{operator}', (p.doc->'operator') - ${PERSONAL})
                              FROM (SELECT ${payloadOf('r.jws')} AS doc) p)
       FROM due WHERE r.issuer = due.issuer AND r.aeo_id = due.aeo_id AND r.jws IS NOT NULL RETURNING 1 AS n`,
    [cutoff, at],
  );
  const identifiers = await tx.query<{ n: string }>(
    `WITH due AS (${redacted}) DELETE FROM operator_identifier i USING due
      WHERE i.issuer = due.issuer AND i.aeo_id = due.aeo_id RETURNING 1 AS n`,
    [cutoff],
  );
  return {
    foreignOperators: operators.length,
    foreignRecords: records.length,
    identifiers: identifiers.length,
  };
}

/** The national register: home_operator withdrawn on or before the cutoff, no delivery of it still open. */
async function redactHome(tx: Sql, cutoff: string, now: Date) {
  const at = now.toISOString();
  const due = `SELECT aeo_id FROM home_operator o
     WHERE status = 'withdrawn' AND status_since <= $1::date
       AND NOT EXISTS (SELECT 1 FROM outbox x JOIN home_record h ON h.seq = x.record_seq
                        WHERE h.aeo_id = o.aeo_id AND x.state IN ('pending', 'retrying'))`;
  const operators = await tx.query<{ n: string }>(
    `WITH due AS (${due}) UPDATE home_operator o SET redacted_at = $2, operator = o.operator - ${PERSONAL}
       FROM due WHERE o.aeo_id = due.aeo_id
        AND (o.redacted_at IS NULL OR o.operator ?| ${PERSONAL}) RETURNING 1 AS n`,
    [cutoff, at],
  );
  const records = await tx.query<{ n: string }>(
    `WITH due AS (${due}) UPDATE home_record h SET jws = NULL, redacted_at = $2
       FROM due WHERE h.aeo_id = due.aeo_id AND h.jws IS NOT NULL RETURNING 1 AS n`,
    [cutoff, at],
  );
  return { homeOperators: operators.length, homeRecords: records.length };
}

/** The payload segment of a compact JWS column, base64url → JSON, decoded in the database. */
function payloadOf(column: string): string {
  return `convert_from(decode(rpad(translate(split_part(${column}, '.', 2), '-_', '+/'),
    ((length(split_part(${column}, '.', 2)) + 3) / 4) * 4, '='), 'base64'), 'UTF8')::jsonb`;
}

/** Runs the job every `intervalMs` (never when 0); the returned function stops it and waits for a run. */
export function startRetentionTimer(
  store: Store,
  settings: RetentionSettings,
  log: Logger,
  clock: () => Date = () => new Date(),
): () => Promise<void> {
  if (settings.intervalMs <= 0) return async () => {};
  let running: Promise<void> | undefined;
  // A run reads every operator: a stop cuts it short rather than wait for it.
  const stop = new AbortController();
  const tick = () => {
    if (running !== undefined) return;
    running = runRetention(store, settings, clock(), stop.signal)
      .then(
        (counts) => log.info({ retention: counts }, 'retention run'),
        (error: unknown) =>
          wasStopped(error)
            ? log.info('retention run stopped with the gateway; it runs again at the next start')
            : log.warn({ err: error }, 'retention run failed; tried again at the next interval'),
      )
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, settings.intervalMs);
  timer.unref();
  tick();
  return async () => {
    clearInterval(timer);
    stop.abort();
    await running;
  };
}
