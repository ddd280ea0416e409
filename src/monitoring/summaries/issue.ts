/**
 * Issuing a monitoring summary about a partner's operators at our border (docs/protocol.md, "Monitoring
 * summaries"): the figures of borderFigures (the very computation of the report's `inbound.figures`), signed
 * by the home signer under `typ: mra-monitoring+jws`, stored with an audit entry in one transaction. A period
 * gets a new revision only when its figures changed since the last one ("again when late figures change it"):
 * asking twice with nothing new signs nothing.
 */
import { randomUUID } from 'node:crypto';
import { appendAudit, GATEWAY_ACTOR } from '../../audit/chain.ts';
import { canonicalJson } from '../../audit/encoding.ts';
import type { Signer } from '../../config/types.ts';
import { recordDigest, sha256Hex } from '../../crypto/digest.ts';
import { signCompactJws } from '../../crypto/jws-verify.ts';
import { GatewayError } from '../../errors.ts';
import type { Partner } from '../../mra/types.ts';
import {
  MONITORING_SUMMARY_SCHEMA,
  MONITORING_SUMMARY_TYP,
  type MonitoringSummary,
  type Period,
  type SummaryFigures,
} from '../../protocol/monitoring-summary.ts';
import { LOCKS } from '../../store/locks.ts';
import type { Sql, Store } from '../../store/types.ts';
import { borderFigures } from '../border-figures.ts';
import { checkPeriod, dayOf } from '../period.ts';

/** Serialises issuing, so two revisions of one period never get the same number. Used by no other lock. */
export const ISSUE_LOCK_KEY = LOCKS.issueSummary;

export interface IssuedSummary {
  summary: MonitoringSummary;
  jws: string;
  seq: number;
  /** False when the figures equal the latest revision's: that one is returned and nothing was signed. */
  created: boolean;
}

export interface IssueDeps {
  store: Store;
  home: string;
  signer: () => Signer;
  clock: () => Date;
  /** Writes the lookups counted in memory, so that the figures include them (LookupCounts.flush). */
  flushLookups?: (() => Promise<void>) | undefined;
}

export interface IssueRequest {
  partner: Partner;
  from: string;
  to: string;
  /** Who asked: an API client's id; the gateway's own timer when absent. */
  actor?: string;
}

/** Signs one summary as its own compact JWS, like a record (docs/protocol.md, signing profile). */
export function signSummary(summary: MonitoringSummary, signer: Signer): Promise<string> {
  return signCompactJws(
    Buffer.from(JSON.stringify(summary), 'utf8'),
    { alg: signer.alg, typ: MONITORING_SUMMARY_TYP, x5c: [...signer.x5c], kid: signer.kid },
    signer.key,
  );
}

export async function issueSummary(
  deps: IssueDeps,
  request: IssueRequest,
  /** A stop: the figures are read over every operator, so a stop rolls the issue back (SHUTTING_DOWN). */
  signal?: AbortSignal,
): Promise<IssuedSummary> {
  const now = deps.clock();
  const period = checkPeriod(request.from, request.to);
  // The partner refuses a summary of a period that has not ended (docs/protocol.md): refused here first.
  if (period.to >= dayOf(now)) {
    throw new GatewayError(
      'BAD_REQUEST',
      `to must be before today (${dayOf(now)}, UTC): the period must have ended`,
    );
  }
  const { partner } = request;
  // A summary issued just after midnight counts the lookups of the last seconds before it, as the report does.
  await deps.flushLookups?.();
  return deps.store.transaction(
    async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [ISSUE_LOCK_KEY]);
      // Figures taken under the lock: two issuers (the timer and the API, or two replicas) are serialised here,
      // so revision n+1 is never signed with figures older than revision n's.
      const figures = await borderFigures(tx, { partner, from: period.from, to: period.to, now });
      const latest = await latestIssued(tx, partner, period);
      if (latest !== undefined && canonicalJson(latest.figures) === canonicalJson(figures)) {
        return { summary: latest.summary, jws: latest.jws, seq: latest.seq, created: false };
      }
      const summary: MonitoringSummary = {
        schema: MONITORING_SUMMARY_SCHEMA,
        summaryId: randomUUID(),
        reporter: deps.home,
        subject: partner.adminId,
        mraId: partner.mra.id,
        period,
        issuedAt: now.toISOString(),
        revision: (latest?.summary.revision ?? 0) + 1,
        figures,
      };
      const jws = await signSummary(summary, deps.signer());
      const payloadSha256 = sha256Hex(Buffer.from(JSON.stringify(summary), 'utf8'));
      const digest = recordDigest(jws);
      const [row] = await tx.query<{ seq: string }>(
        `INSERT INTO monitoring_summary_out (summary_id, reporter, subject, mra_id, period_from, period_to,
         revision, issued_at, jws, digest, payload_sha256, figures, next_attempt_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $8) RETURNING seq::text`,
        [
          summary.summaryId,
          summary.reporter,
          summary.subject,
          summary.mraId,
          period.from,
          period.to,
          summary.revision,
          summary.issuedAt,
          jws,
          digest,
          payloadSha256,
          JSON.stringify(figures),
        ],
      );
      await appendAudit(tx, {
        kind: 'summary-issued',
        actor: request.actor ?? GATEWAY_ACTOR,
        subject: summary.summaryId,
        digest,
        detail: { subject: summary.subject, mraId: summary.mraId, period, revision: summary.revision },
      });
      return { summary, jws, seq: Number(row?.seq), created: true };
    },
    signal === undefined ? undefined : { signal },
  );
}

interface LatestIssued {
  summary: MonitoringSummary;
  jws: string;
  seq: number;
  figures: SummaryFigures;
}

/** The highest revision issued for the partner's MRA and this exact period, if any. */
async function latestIssued(tx: Sql, partner: Partner, period: Period): Promise<LatestIssued | undefined> {
  const [row] = await tx.query<{ seq: string; jws: string; figures: SummaryFigures }>(
    `SELECT seq::text, jws, figures FROM monitoring_summary_out
      WHERE subject = $1 AND mra_id = $2 AND period_from = $3 AND period_to = $4
      ORDER BY revision DESC LIMIT 1`,
    [partner.adminId, partner.mra.id, period.from, period.to],
  );
  if (row === undefined) return undefined;
  return { summary: payloadOfJws(row.jws), jws: row.jws, seq: Number(row.seq), figures: row.figures };
}

/** The payload of a summary this gateway signed and stored: read back as it was signed. */
export function payloadOfJws(jws: string): MonitoringSummary {
  const [, payload = ''] = jws.split('.');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as MonitoringSummary;
}
