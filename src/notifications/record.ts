/**
 * Writes notification rows inside the transaction of the commit that caused them, so an acknowledged change
 * is never without its notifications (I1): one row per event and matching subscription. Runs before the
 * inbound write replaces the current state, which is what `before` is read from.
 */
import { randomUUID } from 'node:crypto';
import type { GatewayConfig } from '../config/types.ts';
import type { Verdict } from '../inbound/verdict.ts';
import { effectiveFrom } from '../mra/recognition.ts';
import type { AeoStatus, Programme, Role } from '../protocol/record.ts';
import type { Sql, Store } from '../store/types.ts';
import { benefitEventOf, type EventType, mraEventOf, recognitionOf, type VersionFacts } from './events.ts';

export interface NotificationEvent {
  eventId: string;
  type: EventType;
  issuer: string;
  aeoId: string | null;
  version: number | null;
  orderKey: string;
  payload: Record<string, unknown>;
  /** When the event takes effect, if later than the commit: the row is held until then. */
  deliverAfter?: Date;
}

type Accepted = Extract<Verdict, { result: 'accepted' | 'superseded' }>;

/** The events of a batch's accepted records, against the operators' state before the batch. */
export async function inboundEvents(
  tx: Sql,
  config: GatewayConfig,
  verdicts: readonly Verdict[],
  at: Date,
): Promise<NotificationEvent[]> {
  const latest = new Map<string, Accepted>();
  for (const d of verdicts) {
    if (d.outcome !== 'candidate' || d.result !== 'accepted') continue;
    const key = `${d.record.issuer}/${d.record.operator.aeoId}`;
    const seen = latest.get(key);
    if (seen === undefined || seen.record.version < d.record.version) latest.set(key, d);
  }
  if (latest.size === 0) return [];
  const rows = await tx.query<{
    issuer: string;
    aeo_id: string;
    version: string;
    status: AeoStatus;
    status_since: string;
    programme: Programme;
    roles: Role[];
  }>(
    `SELECT issuer, aeo_id, version::text, status, to_char(status_since, 'YYYY-MM-DD') AS status_since,
            programme, roles FROM operator_state
      WHERE (issuer, aeo_id) IN (SELECT x->>0, x->>1 FROM jsonb_array_elements($1::jsonb) AS x)`,
    [JSON.stringify([...latest.values()].map((d) => [d.record.issuer, d.record.operator.aeoId]))],
  );
  const before = new Map<string, VersionFacts>(
    rows.map((r) => [
      `${r.issuer}/${r.aeo_id}`,
      {
        version: Number(r.version),
        status: r.status,
        statusSince: r.status_since,
        programme: r.programme,
        roles: r.roles,
      },
    ]),
  );
  const partners = new Map(config.partners.map((p) => [p.adminId, p]));
  const events: NotificationEvent[] = [];
  for (const [key, d] of latest) {
    const r = d.record;
    const partner = partners.get(r.issuer);
    const previous = before.get(key);
    const facts: VersionFacts = {
      version: r.version,
      status: r.status,
      statusSince: r.statusSince,
      programme: r.programme,
      roles: r.operator.roles,
    };
    // Judged when the version takes effect, as the lookup answer changes then: a suspension dated next Monday
    // is heard of on Monday, with the MRA as it stands that day.
    const effective = new Date(effectiveFrom(r.statusSince, at.getTime()));
    const now = recognitionOf(partner, facts, effective);
    const type = benefitEventOf(recognitionOf(partner, previous, effective), now);
    if (type === undefined) continue;
    events.push({
      eventId: randomUUID(),
      type,
      issuer: r.issuer,
      aeoId: r.operator.aeoId,
      version: r.version,
      orderKey: key,
      payload: {
        issuer: r.issuer,
        aeoId: r.operator.aeoId,
        version: r.version,
        previousVersion: previous?.version ?? null,
        status: r.status,
        statusSince: r.statusSince,
        programme: r.programme,
        roles: [...r.operator.roles],
        recognised: now.recognised,
        ...(now.recognised ? { benefits: now.benefits } : { reason: now.reason, benefits: [] }),
        mra: partner?.mra.id ?? null,
        evidence: { recordId: r.recordId, digest: d.digest },
      },
      ...(effective > at ? { deliverAfter: effective } : {}),
    });
  }
  return events;
}

/**
 * One row per event and subscription whose filters let it through. Returns how many of the rows written are due
 * at once (not held until a later instant): what the relay has to take once the transaction commits.
 */
export async function writeNotifications(
  tx: Sql,
  events: readonly NotificationEvent[],
  at: Date,
): Promise<number> {
  if (events.length === 0) return 0;
  const [written] = await tx.query<{ due: number }>(
    `WITH written AS (
       INSERT INTO notification (event_id, subscription_id, type, issuer, aeo_id, version, order_key, payload,
                                 created_at, deliver_after)
       SELECT e.event_id, s.id, e.type, e.issuer, e.aeo_id, e.version, e.order_key, e.payload, $2, e.deliver_after
         FROM jsonb_to_recordset($1::jsonb) AS e(event_id uuid, type text, issuer text, aeo_id text, version bigint,
                order_key text, payload jsonb, seq int, deliver_after timestamptz)
         JOIN webhook_subscription s
           ON (cardinality(s.issuers) = 0 OR e.issuer = ANY (s.issuers))
          AND (cardinality(s.events) = 0 OR e.type = ANY (s.events))
        ORDER BY e.seq, s.id
       RETURNING deliver_after)
     SELECT count(*)::int AS due FROM written WHERE deliver_after IS NULL OR deliver_after <= $2`,
    [
      JSON.stringify(
        events.map((e, seq) => ({
          event_id: e.eventId,
          type: e.type,
          issuer: e.issuer,
          aeo_id: e.aeoId,
          version: e.version,
          order_key: e.orderKey,
          payload: e.payload,
          seq,
          deliver_after: e.deliverAfter?.toISOString() ?? null,
        })),
      ),
      at.toISOString(),
    ],
  );
  return written?.due ?? 0;
}

/**
 * At start: each partner's MRA status in the configuration against the one last seen; a change is an event.
 * The row lock makes replicas starting together emit it once. The first sighting only records the status.
 */
export async function recordMraStatus(store: Store, config: GatewayConfig, at: Date): Promise<number> {
  let emitted = 0;
  for (const partner of config.partners) {
    const status = partner.mra.status;
    emitted += await store.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO mra_status_seen (partner, status, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (partner) DO NOTHING`,
        [partner.adminId, status, at.toISOString()],
      );
      const [seen] = await tx.query<{ status: string }>(
        'SELECT status FROM mra_status_seen WHERE partner = $1 FOR UPDATE',
        [partner.adminId],
      );
      const type = mraEventOf(seen?.status ?? status, status);
      if (seen?.status === status) return 0;
      await tx.query('UPDATE mra_status_seen SET status = $2, updated_at = $3 WHERE partner = $1', [
        partner.adminId,
        status,
        at.toISOString(),
      ]);
      if (type === undefined) return 0;
      const version = at.getTime();
      await writeNotifications(
        tx,
        [
          {
            eventId: randomUUID(),
            type,
            issuer: partner.adminId,
            aeoId: null,
            version,
            orderKey: `mra/${partner.adminId}`,
            payload: {
              partner: partner.adminId,
              mra: partner.mra.id,
              status,
              previousStatus: seen?.status,
              version,
            },
          },
        ],
        at,
      );
      return 1;
    });
  }
  return emitted;
}
