/**
 * Judges each record of a batch by the whole chain of rules before anything is stored: strict JWS, chain,
 * signature, strict schema, MRA rules. Stateless; what depends on stored state is decided in evidence.ts.
 */
import type { ChainCache } from '../crypto/chain-cache.ts';
import { type JwsProfile, RECORD_PROFILE } from '../crypto/compact-jws.ts';
import { recordDigest, sha256Hex } from '../crypto/digest.ts';
import type { CheckResult, TrustStore } from '../crypto/types.ts';
import { type VerifiedObject, verifySignedObjects } from '../crypto/verify-signed.ts';
import type { RecordRejectionCode } from '../errors.ts';
import type { Partner } from '../mra/types.ts';
import type { AeoStatusRecord } from '../protocol/record.ts';
import { validateAgainst } from '../validation.ts';
import { checkMraRules } from './mra-rules.ts';

export interface Rejected {
  outcome: 'rejected';
  index: number;
  digest: string;
  recordId?: string;
  code: RecordRejectionCode;
  detail: string;
}

export interface Candidate {
  outcome: 'candidate';
  index: number;
  digest: string;
  jws: string;
  record: AeoStatusRecord;
  /** The payload's JSON text exactly as signed: what is stored, never a serialisation of `record`. */
  payloadJson: string;
  payloadSha256: string;
  signerFingerprint: string;
}

export type Judged = Rejected | Candidate;

export interface JudgeContext {
  partners: ReadonlyMap<string, Partner>;
  /** The TLS peer's adminId when mTLS identified it. */
  tlsPeer: string | undefined;
  now: Date;
  cache: ChainCache;
}

export async function judgeBatch(
  records: readonly string[],
  ctx: JudgeContext,
): Promise<{ sender: string | null; judged: Judged[] }> {
  const { sender, verified } = await verifyBatch(records, RECORD_PROFILE, ctx);
  const judged = records.map((jws, index): Judged => {
    const digest = recordDigest(jws);
    const v = verified[index]!;
    if (!v.ok) return { outcome: 'rejected', index, digest, code: v.code, detail: v.detail };
    return judgeVerified(jws, index, digest, v, sender, ctx);
  });
  return { sender, judged };
}

/**
 * Verifies each signed object of a batch (records, monitoring summaries) under `profile`, and names the batch's
 * sender: the TLS peer, or without mTLS the signer of the first object that verifies, so that an object signed
 * by anyone else in the same batch is an issuer mismatch.
 */
export async function verifyBatch(
  tokens: readonly string[],
  profile: JwsProfile,
  ctx: JudgeContext,
): Promise<{ sender: string | null; verified: CheckResult<VerifiedObject>[] }> {
  const stores = orderedStores(ctx);
  const verified = await verifySignedObjects(tokens, { profile, stores, at: ctx.now, cache: ctx.cache });
  const sender = ctx.tlsPeer ?? verified.find((v) => v.ok)?.signer ?? null;
  return { sender, verified };
}

function judgeVerified(
  jws: string,
  index: number,
  digest: string,
  v: VerifiedObject,
  sender: string | null,
  ctx: JudgeContext,
): Judged {
  const schema = validateAgainst('aeo-status-1', v.payload);
  const recordId = recordIdOf(v.payload);
  const reject = (code: RecordRejectionCode, detail: string): Rejected =>
    recordId === undefined
      ? { outcome: 'rejected', index, digest, code, detail }
      : { outcome: 'rejected', index, digest, recordId, code, detail };
  if (!schema.ok) return reject('SCHEMA_INVALID', `payload ${schema.errors.join('; ')}`);
  const record = v.payload as AeoStatusRecord;
  const signer = ctx.partners.get(v.signer);
  if (signer === undefined) return reject('CERT_UNTRUSTED', `no partner ${v.signer} is configured`);
  const rules = checkMraRules(record, { signer, sender, now: ctx.now });
  if (!rules.ok) return reject(rules.code, rules.detail);
  return {
    outcome: 'candidate',
    index,
    digest,
    jws,
    record,
    payloadJson: Buffer.from(
      v.payloadBytes.buffer,
      v.payloadBytes.byteOffset,
      v.payloadBytes.byteLength,
    ).toString('utf8'),
    payloadSha256: sha256Hex(v.payloadBytes),
    signerFingerprint: v.leaf.fingerprint,
  };
}

function recordIdOf(payload: unknown): string | undefined {
  const id = (payload as { recordId?: unknown }).recordId;
  return typeof id === 'string' && /^[0-9a-f-]{36}$/.test(id) ? id : undefined;
}

function orderedStores(ctx: JudgeContext): TrustStore[] {
  const all = [...ctx.partners.values()].map((p) => p.trust);
  if (ctx.tlsPeer === undefined) return all;
  return [...all.filter((s) => s.adminId === ctx.tlsPeer), ...all.filter((s) => s.adminId !== ctx.tlsPeer)];
}
