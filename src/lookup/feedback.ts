/**
 * Border systems' feedback: which benefits of an MRA a border system applied or refused to a foreign operator,
 * per consignment, kept for the agreement's monitoring reviews (docs/lookup.md, "Feedback"). Malformed input
 * is refused whole by the route's schema; a well-formed item that names an issuer without an MRA, or a benefit
 * that the issuer's MRA does not grant, is rejected alone with a reason, so one stale benefit id in a border
 * system's table does not lose the rest of its report.
 */
import type { Partner } from '../mra/types.ts';
import type { Sql } from '../store/types.ts';
import { effectiveFromSql, payloadSql } from './payload-sql.ts';

/** A report may come from a border system whose clock runs a little ahead; further ahead is refused. */
export const FUTURE_SKEW_MS = 5 * 60_000;

export interface FeedbackItem {
  issuer: string;
  aeoId: string;
  benefit: string;
  applied: boolean;
  consignmentRef: string;
  /** When the benefit was applied or refused; RFC 3339, checked by the route. */
  at: Date;
  reason?: string | undefined;
}

export type FeedbackRejection = 'no-mra-with-issuer' | 'unknown-benefit' | 'at-in-future';

export type FeedbackResult =
  | { index: number; outcome: 'stored' | 'duplicate' }
  | { index: number; outcome: 'rejected'; reason: FeedbackRejection };

export type EnterpriseSize = 'micro' | 'small' | 'medium' | 'large' | 'unknown';

export interface FeedbackCounts {
  applied: number;
  refused: number;
}

export interface SizeCounts extends FeedbackCounts {
  enterpriseSize: EnterpriseSize;
  /** micro, small and medium enterprises; null when the operator's size is not known. */
  sme: boolean | null;
}

export interface FeedbackSummary extends FeedbackCounts {
  benefits: (FeedbackCounts & { benefit: string; bySize: SizeCounts[] })[];
  bySize: SizeCounts[];
}

export interface SummaryQuery {
  partner?: string | undefined;
  /** Inclusive. */
  from?: Date | undefined;
  /** Exclusive. */
  to?: Date | undefined;
}

export interface FeedbackService {
  record(clientId: string, items: readonly FeedbackItem[]): Promise<FeedbackResult[]>;
  summary(query: SummaryQuery): Promise<FeedbackSummary>;
}

export function createFeedback(options: {
  sql: Sql;
  partners: readonly Partner[];
  clock?: (() => Date) | undefined;
}): FeedbackService {
  const { sql } = options;
  const clock = options.clock ?? (() => new Date());
  const benefitsOf = new Map(
    options.partners.map((p) => [p.adminId, new Set(p.mra.benefits.map((b) => b.id))]),
  );

  function check(item: FeedbackItem, now: number): FeedbackRejection | undefined {
    const benefits = benefitsOf.get(item.issuer);
    if (benefits === undefined) return 'no-mra-with-issuer';
    if (!benefits.has(item.benefit)) return 'unknown-benefit';
    if (item.at.getTime() > now + FUTURE_SKEW_MS) return 'at-in-future';
    return undefined;
  }

  return {
    async record(clientId, items) {
      const now = clock();
      const results: FeedbackResult[] = [];
      const valid: { index: number; item: FeedbackItem }[] = [];
      items.forEach((item, index) => {
        const reason = check(item, now.getTime());
        if (reason === undefined) valid.push({ index, item });
        else results.push({ index, outcome: 'rejected', reason });
      });
      if (valid.length > 0) {
        const rows = valid.map(({ item }) => ({
          consignment_ref: item.consignmentRef,
          issuer: item.issuer,
          aeo_id: item.aeoId,
          benefit: item.benefit,
          applied: item.applied,
          at: item.at.toISOString(),
          reason: item.reason ?? null,
        }));
        // One statement for the whole report; a key already stored (an earlier report, or twice in this one)
        // is left as first reported and comes back as a duplicate. The operator's enterprise size is that of
        // its version in effect at the consignment (`at`, by the as-of rule), kept with the row so that a later
        // change of size does not move it; the current size only when no version was in effect then.
        const inserted = await sql.query<{ k: string }>(
          `INSERT INTO border_feedback (client_id, consignment_ref, issuer, aeo_id, benefit, applied, at, reason,
             received_at, enterprise_size)
           SELECT $1, f.consignment_ref, f.issuer, f.aeo_id, f.benefit, f.applied, f.at, f.reason, $3,
                  CASE WHEN v.found THEN v.size ELSE s.enterprise_size END
             FROM jsonb_to_recordset($2::jsonb) AS f(consignment_ref text, issuer text, aeo_id text, benefit text,
               applied boolean, at timestamptz, reason text)
             LEFT JOIN operator_state s ON s.issuer = f.issuer AND s.aeo_id = f.aeo_id
             LEFT JOIN LATERAL (
               SELECT true AS found, p.doc->'operator'->>'enterpriseSize' AS size
                 FROM inbound_record r CROSS JOIN LATERAL (SELECT ${payloadSql('r')} AS doc) p
                WHERE r.issuer = f.issuer AND r.aeo_id = f.aeo_id AND r.outcome = 'accepted'
                  AND (r.jws IS NOT NULL OR r.kept_payload IS NOT NULL)
                  AND ${effectiveFromSql("p.doc->>'statusSince'", 'r.received_at')} <= f.at
                ORDER BY r.version DESC LIMIT 1) v ON true
           ON CONFLICT DO NOTHING
           RETURNING json_build_array(consignment_ref, issuer, aeo_id, benefit)::text AS k`,
          [clientId, JSON.stringify(rows), now.toISOString()],
        );
        const fresh = new Set(inserted.map((r) => JSON.stringify(JSON.parse(r.k))));
        for (const { index, item } of valid) {
          const key = JSON.stringify([item.consignmentRef, item.issuer, item.aeoId, item.benefit]);
          results.push({ index, outcome: fresh.delete(key) ? 'stored' : 'duplicate' });
        }
      }
      return results.sort((a, b) => a.index - b.index);
    },

    async summary(query) {
      // The enterprise size of the operator's version in effect at the consignment (stored with the row);
      // unknown when none was known.
      const rows = await sql.query<{ benefit: string; size: string; applied: string; refused: string }>(
        `SELECT f.benefit, coalesce(f.enterprise_size, 'unknown') AS size,
                count(*) FILTER (WHERE f.applied)::text AS applied,
                count(*) FILTER (WHERE NOT f.applied)::text AS refused
           FROM border_feedback f
          WHERE ($1::text IS NULL OR f.issuer = $1)
            AND ($2::timestamptz IS NULL OR f.at >= $2)
            AND ($3::timestamptz IS NULL OR f.at < $3)
          GROUP BY 1, 2 ORDER BY 1, 2`,
        [query.partner ?? null, query.from?.toISOString() ?? null, query.to?.toISOString() ?? null],
      );
      const summary: FeedbackSummary = { applied: 0, refused: 0, benefits: [], bySize: [] };
      const sizeTotals = new Map<EnterpriseSize, SizeCounts>();
      for (const r of rows) {
        const applied = Number(r.applied);
        const refused = Number(r.refused);
        const size = sizeOf(r.size);
        let benefit = summary.benefits.at(-1);
        if (benefit?.benefit !== r.benefit) {
          benefit = { benefit: r.benefit, applied: 0, refused: 0, bySize: [] };
          summary.benefits.push(benefit);
        }
        benefit.applied += applied;
        benefit.refused += refused;
        benefit.bySize.push({ ...sizeCounts(size), applied, refused });
        const total = sizeTotals.get(size) ?? sizeCounts(size);
        total.applied += applied;
        total.refused += refused;
        sizeTotals.set(size, total);
        summary.applied += applied;
        summary.refused += refused;
      }
      summary.bySize = [...sizeTotals.values()].sort((a, b) =>
        a.enterpriseSize.localeCompare(b.enterpriseSize),
      );
      return summary;
    },
  };
}

const SIZES: readonly EnterpriseSize[] = ['micro', 'small', 'medium', 'large'];

function sizeOf(text: string): EnterpriseSize {
  return (SIZES as readonly string[]).includes(text) ? (text as EnterpriseSize) : 'unknown';
}

function sizeCounts(size: EnterpriseSize): SizeCounts {
  return { enterpriseSize: size, sme: size === 'unknown' ? null : size !== 'large', applied: 0, refused: 0 };
}
