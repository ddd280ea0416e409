/**
 * Offline verification of an evidence document (docs/evidence.md) with the trust anchors alone: every JWS by
 * the gateway's own verifier (strict pre-check, x5c chained to the anchors as of the signing time, key usage
 * rules, signature over the exact bytes), every receipt listing each record's digest, every audit entry's hash
 * recomputed and every receipt and published record anchored by one. No store, no network.
 */
import { publishedRangeDigest } from '../audit/chain.ts';
import { entryHash } from '../audit/encoding.ts';
import { type JwsProfile, RECEIPT_PROFILE, RECORD_PROFILE } from '../crypto/compact-jws.ts';
import { recordDigest } from '../crypto/digest.ts';
import type { TrustStore } from '../crypto/types.ts';
import { verifySignedObject } from '../crypto/verify-signed.ts';
import { validateAgainst } from '../validation.ts';
import type { EvidenceAuditEntry, EvidenceDocument, EvidenceReceipt, EvidenceRecord } from './format.ts';
import { unverifiedPayload, x5cPem } from './jws-parts.ts';

/** Trust anchors of one administration; `adminId` null when the file was given without one. */
export interface Anchors {
  adminId: string | null;
  label: string;
  store: TrustStore;
}

export interface EvidenceVerification {
  /** What was proven, one sentence each. */
  proven: string[];
  /** What failed, one sentence each; empty when everything verified. */
  failed: string[];
}

type Obj = Record<string, unknown>;

export async function verifyEvidence(
  doc: EvidenceDocument,
  anchors: readonly Anchors[],
  options: { at?: Date } = {},
): Promise<EvidenceVerification> {
  const out: EvidenceVerification = { proven: [], failed: [] };
  if (doc.records.length === 0 && doc.receipts.length === 0)
    out.failed.push('the document holds no evidence');
  for (const r of doc.records) await checkRecord(r, doc, anchors, options.at, out);
  for (const r of doc.receipts) await checkReceipt(r, doc, anchors, options.at, out);
  checkAudit(doc, out);
  return out;
}

interface Signed {
  payload: Obj;
  signer: Anchors;
  subject: string;
}

/** One JWS through the verifier, at `at` or at the instant its payload states (`timeField`). */
async function verifyJws(
  what: string,
  jws: string,
  profile: JwsProfile,
  timeField: string,
  anchors: readonly Anchors[],
  at: Date | undefined,
  out: EvidenceVerification,
): Promise<Signed | undefined> {
  const claimed = unverifiedPayload(jws)?.[timeField];
  const when = at ?? (typeof claimed === 'string' ? new Date(claimed) : new Date(Number.NaN));
  if (Number.isNaN(when.getTime())) {
    out.failed.push(`${what}: no valid ${timeField} to check the certificates at (give --at)`);
    return undefined;
  }
  const verified = await verifySignedObject(jws, { profile, stores: anchors.map((a) => a.store), at: when });
  if (!verified.ok) {
    out.failed.push(`${what}: ${verified.code}: ${verified.detail}`);
    return undefined;
  }
  const signer = anchors.find((a) => a.store.adminId === verified.signer);
  if (signer === undefined) throw new Error('verifier returned a store that was not given');
  return {
    payload: verified.payload as Obj,
    signer,
    subject: `${verified.leaf.x509.subject.replaceAll('\n', ', ')} (certificate ${verified.leaf.fingerprint.slice(0, 16)}…, chain valid at ${when.toISOString()} to ${signer.label})`,
  };
}

function samePem(copy: readonly string[], jws: string): boolean {
  const signed = x5cPem(jws);
  return copy.length === signed.length && copy.every((c, i) => c.trim() === signed[i]?.trim());
}

async function checkRecord(
  r: EvidenceRecord,
  doc: EvidenceDocument,
  anchors: readonly Anchors[],
  at: Date | undefined,
  out: EvidenceVerification,
): Promise<void> {
  const what = `record ${r.recordId}`;
  if (r.jws === null) {
    out.proven.push(`${what}: its JWS was removed by retention; only its digest ${r.digest} can be checked`);
    return;
  }
  if (!copiesAgree(what, r.jws, r, out)) return;
  const signed = await verifyJws(what, r.jws, RECORD_PROFILE, 'issuedAt', anchors, at, out);
  if (signed === undefined) return;
  const p = signed.payload;
  const schema = validateAgainst('aeo-status-1', p);
  if (!schema.ok)
    return void out.failed.push(`${what}: the signed payload is not a record: ${schema.errors.join('; ')}`);
  if (p.recordId !== r.recordId)
    return void out.failed.push(`${what}: the signed payload is record ${p.recordId}`);
  const issuer = String(p.issuer);
  if (signed.signer.adminId !== null && signed.signer.adminId !== issuer)
    return void out.failed.push(`${what}: issued by ${issuer} but signed under ${signed.signer.label}`);
  const publisher = r.origin === 'published' ? doc.exporter : undefined;
  if (publisher !== undefined && issuer !== publisher)
    return void out.failed.push(`${what}: published by ${publisher} but its issuer is ${issuer}`);
  const op = p.operator as Obj;
  out.proven.push(
    `${what}: issued by ${issuer} at ${String(p.issuedAt)}: operator ${String(op.aeoId)}, version ${String(p.version)}, ${String(p.programme)} ${String(p.status)} since ${String(p.statusSince)}; signed by ${signed.subject}`,
  );
}

/** The digest and certificates a document states for a JWS, against the JWS: false when the digest differs. */
function copiesAgree(
  what: string,
  jws: string,
  stated: { digest: string; chain: readonly string[] },
  out: EvidenceVerification,
): boolean {
  if (recordDigest(jws) !== stated.digest) {
    out.failed.push(`${what}: the digest stated differs from the SHA-256 of its JWS`);
    return false;
  }
  if (!samePem(stated.chain, jws))
    out.failed.push(`${what}: the certificates copied differ from the JWS header's x5c`);
  return true;
}

async function checkReceipt(
  r: EvidenceReceipt,
  doc: EvidenceDocument,
  anchors: readonly Anchors[],
  at: Date | undefined,
  out: EvidenceVerification,
): Promise<void> {
  const what = `receipt ${r.receiptId}`;
  if (!copiesAgree(what, r.jws, r, out)) return;
  const signed = await verifyJws(what, r.jws, RECEIPT_PROFILE, 'receivedAt', anchors, at, out);
  if (signed === undefined) return;
  const p = signed.payload;
  const schema = validateAgainst('aeo-receipt-1', p);
  if (!schema.ok)
    return void out.failed.push(`${what}: the signed payload is not a receipt: ${schema.errors.join('; ')}`);
  if (p.receiptId !== r.receiptId)
    return void out.failed.push(`${what}: the signed payload is receipt ${p.receiptId}`);
  const receiver = String(p.receiver);
  const sender = p.sender === null ? 'an unidentified sender' : String(p.sender);
  if (signed.signer.adminId !== null && signed.signer.adminId !== receiver)
    return void out.failed.push(`${what}: signed for ${receiver} but under ${signed.signer.label}`);
  const party = r.direction === 'sent' ? receiver : p.sender;
  if (party !== doc.exporter)
    return void out.failed.push(
      `${what}: ${r.direction === 'sent' ? 'signed by' : 'sent to'} ${String(party)}, not ${doc.exporter}`,
    );
  const results = p.results as {
    index: number;
    recordId?: string;
    digest: string;
    outcome: string;
    code?: string;
  }[];
  const copy = r.results.map((x) => [x.index, x.recordId, x.digest, x.outcome].join(' '));
  const real = results.map((x) => [x.index, x.recordId ?? null, x.digest, x.outcome].join(' '));
  if (copy.join('\n') !== real.join('\n'))
    out.failed.push(`${what}: the results copied differ from the signed ones`);
  const listed: string[] = [];
  for (const rec of doc.records) {
    const hit = results.find((x) => x.recordId === rec.recordId && x.digest === rec.digest);
    if (hit === undefined) {
      out.failed.push(`${what}: does not list record ${rec.recordId} with digest ${rec.digest}`);
      continue;
    }
    listed.push(`${rec.recordId} at index ${hit.index}: ${hit.outcome}${hit.code ? ` (${hit.code})` : ''}`);
  }
  out.proven.push(
    `${what}: ${receiver} received ${results.length} record(s) from ${sender} at ${String(p.receivedAt)}; signed by ${signed.subject}`,
  );
  if (listed.length > 0) out.proven.push(`${what} acknowledges by digest: ${listed.join('; ')}`);
}

function checkAudit(doc: EvidenceDocument, out: EvidenceVerification): void {
  const bySeq = new Map<number, EvidenceAuditEntry>();
  for (const e of doc.audit) {
    const hash = entryHash(e);
    if (hash !== e.hash)
      out.failed.push(`audit entry ${e.seq} (${e.kind} ${e.subject}): its hash does not recompute`);
    else bySeq.set(e.seq, e);
    const before = doc.audit.find((x) => x.seq === e.seq - 1);
    if (before !== undefined && before.hash !== e.prevHash)
      out.failed.push(`audit entry ${e.seq}: prev_hash differs from the hash of entry ${before.seq}`);
  }
  for (const r of doc.receipts) {
    const kind = r.direction === 'sent' ? 'receipt-sent' : 'receipt-received';
    const entry = [...bySeq.values()].find((e) => e.kind === kind && e.subject === r.receiptId);
    if (entry === undefined) {
      out.failed.push(`receipt ${r.receiptId}: no intact ${kind} entry of the audit chain anchors it`);
      continue;
    }
    if (entry.digest !== recordDigest(r.jws))
      out.failed.push(
        `receipt ${r.receiptId}: audit entry ${entry.seq} anchors another text (digest differs)`,
      );
    else
      out.proven.push(
        `receipt ${r.receiptId} is anchored by audit entry ${entry.seq} (${kind}, ${entry.at}, hash ${entry.hash})`,
      );
  }
  for (const r of doc.records) {
    if (r.origin !== 'published') continue;
    const range = doc.publishedRanges.find((p) => p.rows.some((x) => x.recordId === r.recordId));
    const entry = range === undefined ? undefined : bySeq.get(range.entrySeq);
    if (range === undefined || entry === undefined || entry.kind !== 'records-published') {
      out.failed.push(
        `record ${r.recordId}: no intact records-published entry of the audit chain anchors it`,
      );
      continue;
    }
    const row = range.rows.find((x) => x.recordId === r.recordId);
    const first = Number(entry.detail?.firstSeq);
    const last = Number(entry.detail?.lastSeq);
    const inRange = range.rows.every((x) => x.seq >= first && x.seq <= last);
    if (
      row?.digest !== r.digest ||
      row.seq !== r.seq ||
      !inRange ||
      range.rows.length !== Number(entry.detail?.count) ||
      publishedRangeDigest(range.rows) !== entry.digest
    ) {
      out.failed.push(
        `record ${r.recordId}: the published range does not recompute to audit entry ${entry.seq}'s digest`,
      );
      continue;
    }
    out.proven.push(
      `record ${r.recordId} is anchored by audit entry ${entry.seq} (records-published ${entry.subject}, ${entry.at}, hash ${entry.hash})`,
    );
  }
  if (doc.chainHead !== null)
    out.proven.push(
      `the exporting gateway's audit chain ended at entry ${doc.chainHead.seq}, hash ${doc.chainHead.hash}, when exported (compare with its \`audit verify\`)`,
    );
}
