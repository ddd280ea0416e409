/**
 * Applies a decision of the national AEO system to the register entry of one operator. Pure: what the
 * entry becomes, and which status (if any) must now be published to partners.
 */
import { GatewayError } from '../errors.ts';
import type { AeoStatus, AeoStatusRecord, Programme } from '../protocol/record.ts';

/** Nesting of a decision document: the decision, operator, identifiers, one identifier. */
export const MAX_DECISION_DEPTH = 4;

export type DecisionKind = 'certify' | 'suspend' | 'revoke' | 'withdraw' | 'amend' | 'consent';

export interface DecisionInput {
  decisionId: string;
  aeoId: string;
  decision: DecisionKind;
  consent?: boolean;
  programme?: Programme;
  statusSince?: string;
  certifiedOn?: string;
  lastValidatedOn?: string;
  suspendedUntil?: string;
  operator?: Omit<AeoStatusRecord['operator'], 'aeoId'>;
}

/** The register entry of one home operator. */
export interface HomeOperator {
  aeoId: string;
  consent: boolean;
  /** Version of the last record published; 0 when none was. */
  version: number;
  status: AeoStatus;
  programme: Programme;
  operator: Omit<AeoStatusRecord['operator'], 'aeoId'>;
  statusSince: string;
  certifiedOn: string;
  lastValidatedOn: string | undefined;
  suspendedUntil: string | undefined;
}

export interface Applied {
  entry: HomeOperator;
  /** True when partners must receive a new record (of `entry`, or `withdrawn` when consent was withdrawn). */
  publish: boolean;
  publishedStatus: AeoStatus;
}

const STATUS_OF: Partial<Record<DecisionKind, AeoStatus>> = {
  certify: 'certified',
  suspend: 'suspended',
  revoke: 'revoked',
  withdraw: 'withdrawn',
};

export function applyDecision(
  current: HomeOperator | undefined,
  input: DecisionInput,
  today: string,
): Applied {
  if (current === undefined && input.decision !== 'certify') {
    throw new GatewayError('NOT_FOUND', `operator ${input.aeoId} is not in the register; certify it first`);
  }
  let entry: HomeOperator;
  if (input.decision === 'certify') {
    const operator = input.operator ?? current?.operator;
    const programme = input.programme ?? current?.programme;
    const certifiedOn = input.certifiedOn ?? current?.certifiedOn;
    if (operator === undefined || programme === undefined || certifiedOn === undefined) {
      throw new GatewayError('BODY_INVALID', 'certify needs operator, programme and certifiedOn');
    }
    entry = {
      aeoId: input.aeoId,
      consent: input.consent ?? current?.consent ?? false,
      version: current?.version ?? 0,
      status: 'certified',
      programme,
      operator,
      statusSince: input.statusSince ?? today,
      certifiedOn,
      lastValidatedOn: input.lastValidatedOn ?? current?.lastValidatedOn,
      suspendedUntil: undefined,
    };
  } else {
    const base = current!;
    entry = { ...base };
    const status = STATUS_OF[input.decision];
    if (status !== undefined) {
      entry.status = status;
      entry.statusSince = input.statusSince ?? today;
      entry.suspendedUntil = status === 'suspended' ? input.suspendedUntil : undefined;
    } else if (input.decision === 'amend') {
      if (input.operator) entry.operator = input.operator;
      if (input.programme) entry.programme = input.programme;
      if (input.lastValidatedOn) entry.lastValidatedOn = input.lastValidatedOn;
      if (input.certifiedOn) entry.certifiedOn = input.certifiedOn;
      if (input.suspendedUntil && entry.status === 'suspended') entry.suspendedUntil = input.suspendedUntil;
    } else {
      if (input.consent === undefined)
        throw new GatewayError('BODY_INVALID', 'consent needs "consent": true or false');
      entry.consent = input.consent;
    }
    if (input.decision !== 'consent' && input.consent !== undefined) entry.consent = input.consent;
  }
  const wasShared = current?.consent === true && current.version > 0;
  if (entry.consent) return { entry, publish: true, publishedStatus: entry.status };
  // Consent withdrawn (or never given): partners that hold the operator learn it is no longer shared.
  return { entry, publish: wasShared, publishedStatus: 'withdrawn' };
}

/** The record of docs/protocol.md for a register entry. */
export function recordOf(
  entry: HomeOperator,
  status: AeoStatus,
  meta: { recordId: string; issuer: string; issuedAt: string; version: number; today: string },
): AeoStatusRecord {
  const statusSince = status === entry.status ? entry.statusSince : meta.today;
  return {
    schema: 'aeo-status/1',
    recordId: meta.recordId,
    issuer: meta.issuer,
    issuedAt: meta.issuedAt,
    version: meta.version,
    operator: { aeoId: entry.aeoId, ...entry.operator },
    programme: entry.programme,
    status,
    statusSince,
    certifiedOn: entry.certifiedOn,
    ...(entry.lastValidatedOn === undefined ? {} : { lastValidatedOn: entry.lastValidatedOn }),
    ...(status === 'suspended' && entry.suspendedUntil !== undefined
      ? { suspendedUntil: entry.suspendedUntil }
      : {}),
  };
}
