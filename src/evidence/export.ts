/**
 * Export of the evidence of one record or one receipt from the store (docs/evidence.md): the signed texts as
 * stored, the receipts that acknowledge a record or the records a receipt lists, and the audit entries that
 * anchor them, with the rows a `records-published` entry's digest is computed over.
 */
import { auditEntries } from '../audit/verify-chain.ts';
import { recordDigest } from '../crypto/digest.ts';
import { GatewayError } from '../errors.ts';
import type { Sql } from '../store/types.ts';
import {
  EVIDENCE_FORMAT,
  type EvidenceAuditEntry,
  type EvidenceDocument,
  type EvidenceReceipt,
  type EvidenceRecord,
  type PublishedRange,
} from './format.ts';
import { unverifiedPayload, x5cPem } from './jws-parts.ts';

export type EvidenceRequest = { record: string; partner?: string } | { receipt: string; partner?: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface HomeRow {
  seq: string;
  record_id: string;
  jws: string | null;
  digest: string;
}
interface InboundRow {
  record_id: string;
  jws: string | null;
  jws_digest: string;
  receipt_id: string;
}
interface ReceiptRow {
  receipt_id: string;
  partner: string | null;
  receipt_jws: string;
}

export async function exportEvidence(
  sql: Sql,
  exporter: string,
  request: EvidenceRequest,
  now = new Date(),
): Promise<EvidenceDocument> {
  const id = 'record' in request ? request.record : request.receipt;
  if (!UUID.test(id)) throw new GatewayError('BAD_REQUEST', `${id} is not a UUID`);
  const partner = request.partner ?? null;
  const found =
    'record' in request ? await recordEvidence(sql, id, partner) : await receiptEvidence(sql, id, partner);
  const audit = new Map<number, EvidenceAuditEntry>();
  const publishedRanges: PublishedRange[] = [];
  for (const r of found.records) {
    if (r.origin !== 'published' || r.seq === null) continue;
    const range = await publishedRange(sql, r.seq);
    if (range === undefined) continue;
    audit.set(range.entry.seq, range.entry);
    if (!publishedRanges.some((p) => p.entrySeq === range.entry.seq))
      publishedRanges.push({ entrySeq: range.entry.seq, rows: range.rows });
  }
  for (const r of found.receipts) {
    const kind = r.direction === 'sent' ? 'receipt-sent' : 'receipt-received';
    for (const e of await auditEntries(sql, `kind = $1 AND subject = $2 AND (detail->>'table') IS NULL`, [
      kind,
      r.receiptId,
    ]))
      audit.set(e.seq, e);
  }
  const [head] = await auditEntries(sql, 'seq = (SELECT max(seq) FROM audit_log)', []);
  return {
    format: EVIDENCE_FORMAT,
    exportedAt: now.toISOString(),
    exporter,
    subject: { kind: 'record' in request ? 'record' : 'receipt', id: id.toLowerCase(), partner },
    records: found.records,
    receipts: found.receipts,
    audit: [...audit.values()].sort((a, b) => a.seq - b.seq),
    publishedRanges: publishedRanges.sort((a, b) => a.entrySeq - b.entrySeq),
    chainHead: head === undefined ? null : { seq: head.seq, hash: head.hash },
  };
}

interface Found {
  records: EvidenceRecord[];
  receipts: EvidenceReceipt[];
}

async function recordEvidence(sql: Sql, recordId: string, partner: string | null): Promise<Found> {
  const [home] = await sql.query<HomeRow>(
    'SELECT seq::text, record_id::text, jws, digest FROM home_record WHERE record_id = $1::uuid',
    [recordId],
  );
  if (home !== undefined) {
    const receipts = await sql.query<ReceiptRow>(
      `SELECT r.receipt_id::text, r.partner, r.receipt_jws FROM outbox o
         JOIN outbound_receipt r ON r.receipt_id = o.receipt_id
        WHERE o.record_seq = $1 AND ($2::text IS NULL OR o.partner = $2) ORDER BY r.received_at, r.receipt_id`,
      [home.seq, partner],
    );
    return { records: [published(home)], receipts: receipts.map((r) => receipt(r, 'received')) };
  }
  const [inbound] = await sql.query<InboundRow>(
    `SELECT record_id::text, jws, jws_digest, receipt_id::text FROM inbound_record WHERE record_id = $1::uuid`,
    [recordId],
  );
  if (inbound === undefined)
    throw new GatewayError('NOT_FOUND', `no record ${recordId} in this gateway's store`);
  const receipts = await sql.query<ReceiptRow>(
    `SELECT receipt_id::text, sender AS partner, receipt_jws FROM inbound_receipt
      WHERE receipt_id = $1::uuid AND ($2::text IS NULL OR sender = $2)`,
    [inbound.receipt_id, partner],
  );
  if (receipts.length === 0)
    throw new GatewayError('NOT_FOUND', `record ${recordId} was not received from ${partner}`);
  return { records: [received(inbound)], receipts: receipts.map((r) => receipt(r, 'sent')) };
}

async function receiptEvidence(sql: Sql, receiptId: string, partner: string | null): Promise<Found> {
  const [sent] = await sql.query<ReceiptRow>(
    `SELECT receipt_id::text, sender AS partner, receipt_jws FROM inbound_receipt
      WHERE receipt_id = $1::uuid AND ($2::text IS NULL OR sender = $2)`,
    [receiptId, partner],
  );
  if (sent !== undefined) {
    const rows = await sql.query<InboundRow>(
      `SELECT record_id::text, jws, jws_digest, receipt_id::text FROM inbound_record
        WHERE receipt_id = $1::uuid ORDER BY record_id`,
      [receiptId],
    );
    return { records: rows.map(received), receipts: [receipt(sent, 'sent')] };
  }
  const [got] = await sql.query<ReceiptRow>(
    `SELECT receipt_id::text, partner, receipt_jws FROM outbound_receipt
      WHERE receipt_id = $1::uuid AND ($2::text IS NULL OR partner = $2)`,
    [receiptId, partner],
  );
  if (got === undefined)
    throw new GatewayError('NOT_FOUND', `no receipt ${receiptId} in this gateway's store`);
  const listed = receipt(got, 'received').results.flatMap((r) => (r.recordId === null ? [] : [r.recordId]));
  const rows = await sql.query<HomeRow>(
    `SELECT seq::text, record_id::text, jws, digest FROM home_record
      WHERE record_id::text IN (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY seq`,
    [JSON.stringify(listed.filter((id) => UUID.test(id)).map((id) => id.toLowerCase()))],
  );
  return { records: rows.map(published), receipts: [receipt(got, 'received')] };
}

function published(r: HomeRow): EvidenceRecord {
  return {
    recordId: r.record_id,
    origin: 'published',
    jws: r.jws,
    digest: r.digest,
    seq: Number(r.seq),
    chain: r.jws === null ? [] : x5cPem(r.jws),
  };
}

function received(r: InboundRow): EvidenceRecord {
  return {
    recordId: r.record_id,
    origin: 'received',
    jws: r.jws,
    digest: r.jws_digest,
    seq: null,
    chain: r.jws === null ? [] : x5cPem(r.jws),
  };
}

function receipt(r: ReceiptRow, direction: 'sent' | 'received'): EvidenceReceipt {
  const results = unverifiedPayload(r.receipt_jws)?.results;
  return {
    receiptId: r.receipt_id,
    direction,
    partner: r.partner,
    jws: r.receipt_jws,
    digest: recordDigest(r.receipt_jws),
    results: Array.isArray(results)
      ? results.map((x: Record<string, unknown>) => ({
          index: Number(x.index),
          recordId: typeof x.recordId === 'string' ? x.recordId : null,
          digest: String(x.digest),
          outcome: String(x.outcome),
        }))
      : [],
    chain: x5cPem(r.receipt_jws),
  };
}

/** The `records-published` entry whose range holds `seq`, and the rows of that range. */
async function publishedRange(
  sql: Sql,
  seq: number,
): Promise<{ entry: EvidenceAuditEntry; rows: PublishedRange['rows'] } | undefined> {
  const [entry] = await auditEntries(
    sql,
    `kind = 'records-published' AND (detail->>'firstSeq')::bigint <= $1 AND (detail->>'lastSeq')::bigint >= $1`,
    [seq],
  );
  if (entry === undefined) return undefined;
  const rows = await sql.query<{ seq: string; record_id: string; digest: string }>(
    'SELECT seq::text, record_id::text, digest FROM home_record WHERE seq BETWEEN $1 AND $2 ORDER BY seq',
    [Number(entry.detail?.firstSeq), Number(entry.detail?.lastSeq)],
  );
  return { entry, rows: rows.map((r) => ({ seq: Number(r.seq), recordId: r.record_id, digest: r.digest })) };
}
