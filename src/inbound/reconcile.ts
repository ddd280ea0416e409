/**
 * Reconciliation (docs/protocol.md, snapshot): the partner's whole snapshot of what it shares with us against what
 * we hold of that partner. Equal digests prove equal state; otherwise the report names some of the
 * operators that differ. Nothing is changed here: drift is reported for people to look into, since the
 * cause (a lost record, a row altered by hand, a partner's bug) decides the remedy.
 *
 * The snapshot's records are read, not verified: none of them is stored, and a forged one could only make
 * the two sides look different, which is what the report then says.
 */

import type { Logger } from 'pino';
import { reconciliationEntry, withAudit } from '../audit/chain.ts';
import type { GatewayConfig } from '../config/types.ts';
import { parseCompactJws } from '../crypto/compact-jws.ts';
import { recordDigest } from '../crypto/digest.ts';
import { parseStrictJsonObject } from '../crypto/strict-json.ts';
import { MAX_JSON_DEPTH } from '../crypto/verify-signed.ts';
import type { Partner } from '../mra/types.ts';
import type { PartnerFetcher } from '../partner-client/fetch.ts';
import { lineOf, type SnapshotLine, snapshotDigest } from '../protocol/snapshot-digest.ts';
import type { Store } from '../store/types.ts';
import { readSnapshot } from './snapshot-read.ts';

/** How many differing operators a report names; the counts say how many there are. */
const DRIFT_EXAMPLES = 10;

export interface ReconciliationReport {
  id: string;
  partner: string;
  at: string;
  inSync: boolean;
  partnerDigest: string | null;
  localDigest: string;
  partnerCount: number | null;
  localCount: number;
  detail: string | null;
}

export interface ReconcileDeps {
  config: GatewayConfig;
  store: Store;
  fetcher: PartnerFetcher;
  log: Logger;
  clock: () => Date;
}

export function createReconciler(deps: ReconcileDeps) {
  const limit = Math.min(deps.config.outbound.batchSize, 1000);

  async function reconcile(partner: Partner): Promise<ReconciliationReport> {
    const at = deps.clock();
    const remote = await readSnapshot(deps.fetcher, partner, limit, lineFromRecord);
    // Read after the snapshot, so that a record that reached us meanwhile is more likely in both.
    const local = await localLines(partner.adminId);
    const localDigest = snapshotDigest(local);
    let inSync = false;
    let detail: string;
    if (!remote.ok) {
      detail = `snapshot unusable: ${remote.reason}`;
    } else {
      inSync = remote.digest === localDigest;
      const drift = inSync ? 'in sync' : describeDrift(partner.adminId, remote.lines, local);
      detail = `snapshot as of ${remote.asOf}: ${drift}`;
    }
    const summary = remote.ok ? remote : remote.summary;
    const result = {
      partner: partner.adminId,
      inSync,
      partnerDigest: summary?.digest ?? null,
      localDigest,
      partnerCount: summary?.count ?? null,
      localCount: local.length,
    };
    // Chained with the row, so a report cannot be rewritten afterwards to say the two sides agreed.
    const [row] = await withAudit(
      deps.store,
      (tx) =>
        tx.query<{ id: string }>(
          `INSERT INTO reconciliation (partner, at, partner_digest, local_digest, partner_count, local_count,
         in_sync, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id::text`,
          [
            partner.adminId,
            at.toISOString(),
            summary?.digest ?? null,
            localDigest,
            summary?.count ?? null,
            local.length,
            inSync,
            detail,
          ],
        ),
      (rows) => reconciliationEntry(rows[0]?.id ?? '', result),
    );
    const report: ReconciliationReport = {
      id: row!.id,
      partner: partner.adminId,
      at: at.toISOString(),
      inSync,
      partnerDigest: summary?.digest ?? null,
      localDigest,
      partnerCount: summary?.count ?? null,
      localCount: local.length,
      detail,
    };
    if (inSync) deps.log.info({ partner: partner.adminId, count: local.length }, 'reconciled: in sync');
    else deps.log.warn({ partner: partner.adminId, detail }, 'reconciliation: drift from the partner');
    return report;
  }

  /** What we hold of the partner: the current state of each of its operators and that record's digest. */
  async function localLines(partner: string): Promise<SnapshotLine[]> {
    const rows = await deps.store.query<{ aeo_id: string; version: string; jws_digest: string }>(
      `SELECT s.aeo_id, s.version::text AS version, r.jws_digest
         FROM operator_state s JOIN inbound_record r ON r.record_id = s.record_id
        WHERE s.issuer = $1 AND s.redacted_at IS NULL`,
      [partner],
    );
    return rows.map((r) => ({
      issuer: partner,
      aeoId: r.aeo_id,
      version: r.version,
      recordDigest: r.jws_digest,
    }));
  }

  async function reports(filter: { partner?: string; limit: number }): Promise<ReconciliationReport[]> {
    const rows = await deps.store.query<ReportRow>(
      `SELECT id::text, partner, at, partner_digest, local_digest, partner_count, local_count, in_sync, detail
         FROM reconciliation WHERE ($1::text IS NULL OR partner = $1) ORDER BY reconciliation.id DESC LIMIT $2`,
      [filter.partner ?? null, filter.limit],
    );
    return rows.map((r) => ({
      id: r.id,
      partner: r.partner,
      at: new Date(r.at).toISOString(),
      inSync: r.in_sync,
      partnerDigest: r.partner_digest,
      localDigest: r.local_digest,
      partnerCount: r.partner_count,
      localCount: r.local_count,
      detail: r.detail,
    }));
  }

  return { reconcile, reports };
}

interface ReportRow {
  id: string;
  partner: string;
  at: Date | string;
  partner_digest: string | null;
  local_digest: string;
  partner_count: number | null;
  local_count: number;
  in_sync: boolean;
  detail: string | null;
}

/** The digest line of a snapshot record, read from its payload; undefined when it is not a record. */
function lineFromRecord(jws: string): SnapshotLine | undefined {
  const parsed = parseCompactJws(jws);
  if (!parsed.ok) return undefined;
  const payload = parseStrictJsonObject(parsed.payloadBytes, { maxDepth: MAX_JSON_DEPTH });
  if (!payload.ok) return undefined;
  const { issuer, operator, version } = payload.value as {
    issuer?: unknown;
    operator?: { aeoId?: unknown };
    version?: unknown;
  };
  const aeoId = typeof operator === 'object' && operator !== null ? operator.aeoId : undefined;
  if (typeof issuer !== 'string' || typeof aeoId !== 'string' || !Number.isSafeInteger(version))
    return undefined;
  return { issuer, aeoId, version: version as number, recordDigest: recordDigest(jws) };
}

/** "2 operators differ: PEAEO1 (partner v3, here v2); PEAEO2 (partner v1, here none)". */
export function describeDrift(
  partner: string,
  remote: readonly SnapshotLine[],
  local: readonly SnapshotLine[],
): string {
  const key = (l: SnapshotLine) => `${l.issuer}\t${l.aeoId}`;
  const theirs = new Map(remote.map((l) => [key(l), l]));
  const ours = new Map(local.map((l) => [key(l), l]));
  const keys = [...new Set([...theirs.keys(), ...ours.keys()])].sort();
  const differing: string[] = [];
  for (const k of keys) {
    const t = theirs.get(k);
    const o = ours.get(k);
    if (t !== undefined && o !== undefined && lineOf(t) === lineOf(o)) continue;
    const l = (t ?? o)!;
    // A snapshot line of another issuer is named with it: the partner shares only its own operators.
    const name = l.issuer === partner ? l.aeoId : `${l.issuer}/${l.aeoId}`;
    const version = (l: SnapshotLine | undefined) => (l === undefined ? 'none' : `v${l.version}`);
    const sameVersion = t !== undefined && o !== undefined && String(t.version) === String(o.version);
    differing.push(
      `${name} (partner ${version(t)}, here ${version(o)}${sameVersion ? ', other record' : ''})`,
    );
  }
  if (differing.length === 0) return 'the digests differ, yet every operator matches: an operator repeated?';
  const shown = differing.slice(0, DRIFT_EXAMPLES).join('; ');
  const more = differing.length > DRIFT_EXAMPLES ? `; and ${differing.length - DRIFT_EXAMPLES} more` : '';
  return `${differing.length} operator${differing.length === 1 ? '' : 's'} differ: ${shown}${more}`;
}
