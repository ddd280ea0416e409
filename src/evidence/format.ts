/**
 * The evidence document (`mra-evidence/1`, docs/evidence.md): what proves one exchange, self-contained, so that
 * anyone holding the administrations' trust anchors can check it without the gateway's store or network.
 * Everything a check relies on is signed (the JWS texts) or recomputable (digests, audit hashes); the other
 * members are copies for a human reader, and verification refuses a copy that differs from what is signed.
 */
import type { AuditEntry } from '../audit/encoding.ts';
import { parseStrictJsonObject } from '../crypto/strict-json.ts';
import { GatewayError } from '../errors.ts';

export const EVIDENCE_FORMAT = 'mra-evidence/1';

export interface EvidenceRecord {
  recordId: string;
  /** published: signed by the exporting administration; received: signed by a partner and received by it. */
  origin: 'published' | 'received';
  /** The compact JWS exactly as stored; null where retention removed it (the digest stays anchored). */
  jws: string | null;
  /** base64url SHA-256 of the JWS text: what receipts list (docs/protocol.md). */
  digest: string;
  /** Of a published record: its position among the published records (`home_record.seq`). */
  seq: number | null;
  /** The certificates of the JWS header's x5c, leaf first, in PEM, for reading. */
  chain: string[];
}

export interface EvidenceReceiptResult {
  index: number;
  recordId: string | null;
  digest: string;
  outcome: string;
}

export interface EvidenceReceipt {
  receiptId: string;
  /** sent: the exporting administration signed it for a partner's batch; received: a partner signed it. */
  direction: 'sent' | 'received';
  /** The other administration (the batch's sender, or the receipt's signer). */
  partner: string | null;
  jws: string;
  digest: string;
  /** What it lists, copied from its signed payload for reading. */
  results: EvidenceReceiptResult[];
  chain: string[];
}

/** An entry of the exporting gateway's audit chain (docs/monitoring.md, "Audit trail"). */
export type EvidenceAuditEntry = AuditEntry;

/** The rows a `records-published` entry covers, from which its digest is recomputed. */
export interface PublishedRange {
  entrySeq: number;
  rows: { seq: number; recordId: string; digest: string }[];
}

export interface EvidenceDocument {
  format: typeof EVIDENCE_FORMAT;
  exportedAt: string;
  /** adminId of the administration whose gateway exported it. */
  exporter: string;
  subject: { kind: 'record' | 'receipt'; id: string; partner: string | null };
  records: EvidenceRecord[];
  receipts: EvidenceReceipt[];
  audit: EvidenceAuditEntry[];
  publishedRanges: PublishedRange[];
  /** The last entry of the audit chain when exported: compare with `audit verify` of that gateway. */
  chainHead: { seq: number; hash: string } | null;
}

/** Limits of a document read back: a record's evidence is a few kilobytes; a large receipt a few megabytes. */
const MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;
const MAX_DEPTH = 16;

function bad(detail: string): never {
  throw new GatewayError('BAD_REQUEST', `not an ${EVIDENCE_FORMAT} document: ${detail}`);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(o: Obj, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== 'string') bad(`${where}.${key} is not a string`);
  return v;
}
function strOrNull(o: Obj, key: string, where: string): string | null {
  return o[key] === null ? null : str(o, key, where);
}
function int(o: Obj, key: string, where: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) bad(`${where}.${key} is not an integer`);
  return v;
}
function intOrNull(o: Obj, key: string, where: string): number | null {
  return o[key] === null ? null : int(o, key, where);
}
function list<T>(o: Obj, key: string, where: string, item: (v: Obj, at: string) => T): T[] {
  const v = o[key];
  if (!Array.isArray(v)) bad(`${where}.${key} is not an array`);
  return v.map((x: unknown, i) => {
    const at = `${where}.${key}[${i}]`;
    if (!isObj(x)) bad(`${at} is not an object`);
    return item(x, at);
  });
}
function strings(o: Obj, key: string, where: string): string[] {
  const v = o[key];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    bad(`${where}.${key} is not a list of text`);
  return v as string[];
}
function oneOf<T extends string>(o: Obj, key: string, where: string, values: readonly T[]): T {
  const v = str(o, key, where);
  if (!(values as readonly string[]).includes(v)) bad(`${where}.${key} is not one of ${values.join(', ')}`);
  return v as T;
}

/** Reads a document strictly (duplicate members, lone surrogates and the like refused); throws BAD_REQUEST. */
export function parseEvidence(bytes: Uint8Array): EvidenceDocument {
  if (bytes.length > MAX_DOCUMENT_BYTES) bad(`larger than ${MAX_DOCUMENT_BYTES} bytes`);
  const parsed = parseStrictJsonObject(bytes, { maxDepth: MAX_DEPTH });
  if (!parsed.ok) bad(parsed.detail);
  const d = parsed.value;
  if (d.format !== EVIDENCE_FORMAT) bad(`format is not "${EVIDENCE_FORMAT}"`);
  const subject = d.subject;
  if (!isObj(subject)) bad('subject is not an object');
  const head = d.chainHead;
  if (head !== null && !isObj(head)) bad('chainHead is neither an object nor null');
  return {
    format: EVIDENCE_FORMAT,
    exportedAt: str(d, 'exportedAt', '$'),
    exporter: str(d, 'exporter', '$'),
    subject: {
      kind: oneOf(subject, 'kind', '$.subject', ['record', 'receipt'] as const),
      id: str(subject, 'id', '$.subject'),
      partner: strOrNull(subject, 'partner', '$.subject'),
    },
    records: list(d, 'records', '$', (r, at) => ({
      recordId: str(r, 'recordId', at),
      origin: oneOf(r, 'origin', at, ['published', 'received'] as const),
      jws: strOrNull(r, 'jws', at),
      digest: str(r, 'digest', at),
      seq: intOrNull(r, 'seq', at),
      chain: strings(r, 'chain', at),
    })),
    receipts: list(d, 'receipts', '$', (r, at) => ({
      receiptId: str(r, 'receiptId', at),
      direction: oneOf(r, 'direction', at, ['sent', 'received'] as const),
      partner: strOrNull(r, 'partner', at),
      jws: str(r, 'jws', at),
      digest: str(r, 'digest', at),
      results: list(r, 'results', at, (x, xat) => ({
        index: int(x, 'index', xat),
        recordId: strOrNull(x, 'recordId', xat),
        digest: str(x, 'digest', xat),
        outcome: str(x, 'outcome', xat),
      })),
      chain: strings(r, 'chain', at),
    })),
    audit: list(d, 'audit', '$', (e, at) => {
      const detail = e.detail;
      if (detail !== null && !isObj(detail)) bad(`${at}.detail is neither an object nor null`);
      return {
        seq: int(e, 'seq', at),
        at: str(e, 'at', at),
        kind: str(e, 'kind', at),
        actor: str(e, 'actor', at),
        subject: str(e, 'subject', at),
        digest: str(e, 'digest', at),
        detail,
        prevHash: str(e, 'prevHash', at),
        hash: str(e, 'hash', at),
      };
    }),
    publishedRanges: list(d, 'publishedRanges', '$', (p, at) => ({
      entrySeq: int(p, 'entrySeq', at),
      rows: list(p, 'rows', at, (r, rat) => ({
        seq: int(r, 'seq', rat),
        recordId: str(r, 'recordId', rat),
        digest: str(r, 'digest', rat),
      })),
    })),
    chainHead:
      head === null ? null : { seq: int(head, 'seq', '$.chainHead'), hash: str(head, 'hash', '$.chainHead') },
  };
}
