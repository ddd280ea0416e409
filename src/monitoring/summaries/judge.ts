/**
 * Judges each summary of a batch before anything is stored (docs/protocol.md, "Monitoring summaries"): the
 * records' own verification path (strict JWS, chain to the partner's anchors, kid, alg, signature, strict
 * payload JSON) under `typ: mra-monitoring+jws`, then the schema, then who may say what about whom. Stateless;
 * what depends on held summaries is decided in verdict.ts.
 */
import { type JwsProfile, RECORD_PROFILE } from '../../crypto/compact-jws.ts';
import { recordDigest, sha256Hex } from '../../crypto/digest.ts';
import type { VerifiedObject } from '../../crypto/verify-signed.ts';
import type { SummaryRejectionCode } from '../../errors.ts';
import { type JudgeContext, verifyBatch } from '../../inbound/judge.ts';
import { MAX_CLOCK_SKEW_MS } from '../../inbound/mra-rules.ts';
import { MONITORING_SUMMARY_TYP, type MonitoringSummary } from '../../protocol/monitoring-summary.ts';
import { checkSummary, UUID_PATTERN } from './schema.ts';

const UUID = new RegExp(UUID_PATTERN);

/** The signing profile of records (same header members, x5c and kid rules), with the summary's `typ`. */
export const SUMMARY_PROFILE: JwsProfile = Object.freeze({ ...RECORD_PROFILE, typ: MONITORING_SUMMARY_TYP });

export interface SummaryRejected {
  outcome: 'rejected';
  index: number;
  digest: string;
  summaryId?: string;
  code: SummaryRejectionCode;
  detail: string;
}

export interface SummaryCandidate {
  outcome: 'candidate';
  index: number;
  digest: string;
  jws: string;
  summary: MonitoringSummary;
  payloadSha256: string;
}

export type SummaryJudged = SummaryRejected | SummaryCandidate;

export interface SummaryJudgeContext extends JudgeContext {
  /** This gateway's adminId: the only subject a partner may report on to it. */
  home: string;
}

export async function judgeSummaries(
  tokens: readonly string[],
  ctx: SummaryJudgeContext,
): Promise<{ sender: string | null; judged: SummaryJudged[] }> {
  const { sender, verified } = await verifyBatch(tokens, SUMMARY_PROFILE, ctx);
  const judged = tokens.map((jws, index): SummaryJudged => {
    const digest = recordDigest(jws);
    const v = verified[index];
    if (v === undefined)
      return { outcome: 'rejected', index, digest, code: 'JWS_MALFORMED', detail: 'missing' };
    if (!v.ok) return { outcome: 'rejected', index, digest, code: v.code, detail: v.detail };
    return judgeVerified(jws, index, digest, v, sender, ctx);
  });
  return { sender, judged };
}

function judgeVerified(
  jws: string,
  index: number,
  digest: string,
  v: VerifiedObject,
  sender: string | null,
  ctx: SummaryJudgeContext,
): SummaryJudged {
  const summaryId = summaryIdOf(v.payload);
  const reject = (code: SummaryRejectionCode, detail: string): SummaryRejected =>
    summaryId === undefined
      ? { outcome: 'rejected', index, digest, code, detail }
      : { outcome: 'rejected', index, digest, summaryId, code, detail };
  const schema = checkSummary(v.payload);
  if (!schema.ok) return reject('SCHEMA_INVALID', `payload ${schema.errors.join('; ')}`);
  const summary = v.payload as MonitoringSummary;
  const signer = ctx.partners.get(v.signer);
  if (signer === undefined) return reject('CERT_UNTRUSTED', `no partner ${v.signer} is configured`);
  if (summary.reporter !== signer.adminId) {
    return reject(
      'ISSUER_MISMATCH',
      `reporter ${summary.reporter} is not ${signer.adminId}, whose certificate signed it`,
    );
  }
  if (sender !== null && summary.reporter !== sender) {
    return reject(
      'ISSUER_MISMATCH',
      `reporter ${summary.reporter} is not ${sender}, the partner that sent it`,
    );
  }
  if (summary.subject !== ctx.home) {
    return reject('SUBJECT_MISMATCH', `subject ${summary.subject} is not ${ctx.home}, which received it`);
  }
  // Whatever the MRA's status: a suspended or ended MRA is still reviewed.
  if (summary.mraId !== signer.mra.id) {
    return reject(
      'MRA_UNKNOWN',
      `mraId ${summary.mraId} is not ${signer.mra.id}, the MRA with ${signer.adminId}`,
    );
  }
  if (Date.parse(summary.issuedAt) > ctx.now.getTime() + MAX_CLOCK_SKEW_MS) {
    return reject(
      'ISSUED_IN_FUTURE',
      `issuedAt ${summary.issuedAt} is more than 5 minutes ahead of the receiver`,
    );
  }
  return {
    outcome: 'candidate',
    index,
    digest,
    jws,
    summary,
    payloadSha256: sha256Hex(v.payloadBytes),
  };
}

/** The summaryId a receipt may name: only a well-formed one, from a payload whose signature verified. */
function summaryIdOf(payload: unknown): string | undefined {
  const id = (payload as { summaryId?: unknown }).summaryId;
  return typeof id === 'string' && UUID.test(id) ? id : undefined;
}
