/**
 * The answer to "is this foreign operator a recognised AEO as of T, and which benefits apply": the version in
 * effect at T (read-model.ts) judged against the partner's MRA as configured. Pure, so every reason is
 * testable without a listener. The order of the checks is documented in docs/lookup.md.
 */
import type { Partner, Role } from '../config/types.ts';
import type { AeoStatus } from '../inbound/record.ts';
import { mraInForce, programmeInScope, rolesInScope } from '../mra/scope.ts';
import type { OperatorVersion, ReadModel } from './read-model.ts';

export type NotRecognisedReason =
  | 'unknown'
  | 'suspended'
  | 'revoked'
  | 'withdrawn'
  | 'mra-not-in-force'
  | 'out-of-scope';

export type OperatorQuery =
  | { issuer: string; aeoId: string }
  | { scheme: string; value: string; country?: string | undefined };

export interface LookupAnswer {
  query: OperatorQuery;
  asOf: string;
  recognised: boolean;
  reason?: NotRecognisedReason;
  operator?: {
    issuer: string;
    aeoId: string;
    version: number;
    status: AeoStatus;
    statusSince: string;
    programme: string;
    roles: Role[];
  };
  mra?: { id: string; partner: string; status: string; inForce: boolean };
  benefits: { id: string; description: string; roles: Role[] }[];
  evidence?: { recordId: string; digest: string; receivedAt: string };
  freshness: { partnerLastReceivedAt: string | null; readModelLastChangeAt: string | null };
}

export interface Answerer {
  answer(query: OperatorQuery, at: Date): LookupAnswer;
}

export function createAnswerer(model: ReadModel, partners: readonly Partner[]): Answerer {
  const partnerOf = new Map(partners.map((p) => [p.adminId, p]));
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

  function judge(query: OperatorQuery, slot: number | undefined, issuer: string | undefined, at: Date) {
    const base: LookupAnswer = {
      query,
      asOf: at.toISOString(),
      recognised: false,
      benefits: [],
      freshness: {
        partnerLastReceivedAt: iso(issuer === undefined ? undefined : model.lastReceivedFrom(issuer)),
        readModelLastChangeAt: iso(model.lastChangeAt),
      },
    };
    const partner = issuer === undefined ? undefined : partnerOf.get(issuer);
    if (partner !== undefined) {
      const { mra } = partner;
      base.mra = { id: mra.id, partner: partner.adminId, status: mra.status, inForce: mraInForce(mra, at) };
    }
    const version = slot === undefined ? undefined : model.versionAt(slot, at.getTime());
    if (version === undefined) return { ...base, reason: 'unknown' as const };
    const answer: LookupAnswer = { ...base, operator: operatorOf(version), evidence: evidenceOf(version) };
    if (version.status !== 'certified') return { ...answer, reason: version.status };
    if (partner === undefined || !mraInForce(partner.mra, at)) {
      return { ...answer, reason: 'mra-not-in-force' as const };
    }
    const { mra } = partner;
    if (!programmeInScope(mra, version.programme) || !rolesInScope(mra, version.roles)) {
      return { ...answer, reason: 'out-of-scope' as const };
    }
    const covered = version.roles.filter((r) => mra.roles.has(r));
    const benefits = mra.benefits.flatMap((b) => {
      const roles = b.roles === undefined ? covered : covered.filter((r) => b.roles?.includes(r));
      return roles.length === 0 ? [] : [{ id: b.id, description: b.description, roles }];
    });
    return { ...answer, recognised: true, benefits };
  }

  return {
    answer(query, at) {
      if ('aeoId' in query) return judge(query, model.find(query.issuer, query.aeoId), query.issuer, at);
      const slots = model.findByIdentifier(query.scheme, query.value, query.country);
      if (slots.length === 0) return judge(query, undefined, query.country, at);
      // An identifier shared across countries (no country given) or by two operators: a recognised match
      // wins, so a border system is never told "not recognised" about a party another match recognises.
      const answers = slots.map((s) => judge(query, s, model.issuerOf(s), at));
      return answers.find((a) => a.recognised) ?? answers[0]!;
    },
  };
}

function operatorOf(v: OperatorVersion): NonNullable<LookupAnswer['operator']> {
  return {
    issuer: v.issuer,
    aeoId: v.aeoId,
    version: v.version,
    status: v.status,
    statusSince: v.statusSince,
    programme: v.programme,
    roles: v.roles,
  };
}

function evidenceOf(v: OperatorVersion): NonNullable<LookupAnswer['evidence']> {
  return { recordId: v.recordId, digest: v.digest, receivedAt: new Date(v.receivedAt).toISOString() };
}
