/**
 * The history of each partner's MRA terms as configured: a row in `mra_terms` whenever the gateway starts with
 * terms that differ from the latest row, so that a report over a period names every version of the terms in
 * force during it (an amendment of scope or benefits changes what the figures mean).
 */
import { type AuditEntry, appendAuditMany, mraAmendedEntry } from '../audit/chain.ts';
import { sha256Hex } from '../crypto/digest.ts';
import type { Mra, Partner } from '../mra/types.ts';
import { PROGRAMMES, ROLES } from '../protocol/record.ts';
import { LOCKS } from '../store/locks.ts';
import type { Store } from '../store/types.ts';
import type { MraTermsVersion } from './report-types.ts';

// Any constant works; replicas starting together must agree on it so that one of them writes.
const HISTORY_LOCK = LOCKS.mraHistory;
const DAY_MS = 86_400_000;

/** The canonical terms of an MRA: fixed member order, programmes and roles in the protocol's order. */
export function termsOf(mra: Mra): MraTermsVersion['terms'] {
  return {
    mraId: mra.id,
    status: mra.status,
    inForceFrom: mra.inForceFrom.toISOString().slice(0, 10),
    // Held exclusive (the day after); configured, and shown, as the last day in force.
    inForceUntil:
      mra.inForceUntil === undefined
        ? null
        : new Date(mra.inForceUntil.getTime() - DAY_MS).toISOString().slice(0, 10),
    programmes: PROGRAMMES.filter((p) => mra.programmes.has(p)),
    roles: ROLES.filter((r) => mra.roles.has(r)),
    benefits: mra.benefits.map((b) => ({
      id: b.id,
      description: b.description,
      roles: b.roles === undefined ? null : ROLES.filter((r) => b.roles?.includes(r)),
    })),
  };
}

export function termsSha256(terms: MraTermsVersion['terms']): string {
  return sha256Hex(JSON.stringify(terms));
}

/** Writes the configured terms of every partner whose latest row differs; returns the partners written. */
export async function recordMraTerms(
  store: Store,
  partners: readonly Partner[],
  now: Date,
): Promise<string[]> {
  return store.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [HISTORY_LOCK]);
    const latest = await tx.query<{ partner: string; terms_sha256: string }>(
      `SELECT DISTINCT ON (partner) partner, terms_sha256 FROM mra_terms ORDER BY partner, since DESC`,
    );
    const held = new Map(latest.map((r) => [r.partner, r.terms_sha256]));
    const written: string[] = [];
    const entries: AuditEntry[] = [];
    for (const p of partners) {
      const terms = termsOf(p.mra);
      const sha = termsSha256(terms);
      if (held.get(p.adminId) === sha) continue;
      const [inserted] = await tx.query(
        `INSERT INTO mra_terms (partner, since, terms, terms_sha256) VALUES ($1, $2, $3::jsonb, $4)
         ON CONFLICT (partner, since) DO NOTHING RETURNING 1 AS n`,
        [p.adminId, now.toISOString(), JSON.stringify(terms), sha],
      );
      written.push(p.adminId);
      // Each amendment is chained with the row it writes: a report's terms are then provably those run with.
      if (inserted !== undefined) entries.push(mraAmendedEntry(p.adminId, now, terms, sha));
    }
    // Last in the transaction: the chain's lock is held until commit (src/audit/chain.ts).
    await appendAuditMany(tx, entries, now);
    return written;
  });
}

/** Every version of a partner's terms in force at some moment of [from, until), oldest first. */
export async function mraTermsDuring(
  store: Pick<Store, 'query'>,
  partner: string,
  from: Date,
  until: Date,
): Promise<MraTermsVersion[]> {
  const rows = await store.query<{
    since: Date | string;
    until: Date | string | null;
    terms: unknown;
    terms_sha256: string;
  }>(
    `SELECT since, until, terms, terms_sha256 FROM (
       SELECT since, lead(since) OVER (ORDER BY since) AS until, terms, terms_sha256
         FROM mra_terms WHERE partner = $1) t
      WHERE since < $3 AND (until IS NULL OR until > $2) ORDER BY since`,
    [partner, from.toISOString(), until.toISOString()],
  );
  return rows.map((r) => ({
    since: new Date(r.since).toISOString(),
    until: r.until === null ? null : new Date(r.until).toISOString(),
    termsSha256: r.terms_sha256,
    terms: (typeof r.terms === 'string' ? JSON.parse(r.terms) : r.terms) as MraTermsVersion['terms'],
  }));
}
