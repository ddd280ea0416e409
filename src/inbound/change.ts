/**
 * What a committed inbound batch changed, for the lookup read model: the versions accepted (superseded ones
 * never became state, docs/threats.md 42) and the partner's latest contact. Emitted in-process after the commit
 * and carried to other replicas by the lookup module; built here so the read model never reads the verdicts.
 */
import type { AeoStatus, Programme, Role } from '../protocol/record.ts';
import type { Verdict } from './verdict.ts';

export interface OperatorChange {
  issuer: string;
  aeoId: string;
  version: number;
  recordId: string;
  digest: string;
  status: AeoStatus;
  statusSince: string;
  programme: Programme;
  roles: Role[];
  /** The operator's identifiers as this version states them. */
  identifiers: { scheme: string; value: string }[];
}

export interface InboundChange {
  /** The partner whose batch was committed (null when neither mTLS nor a signature named one). */
  sender: string | null;
  /** Epoch milliseconds: the batch's receivedAt, also stored on each evidence row. */
  receivedAt: number;
  changes: OperatorChange[];
}

export function changeOf(
  sender: string | null,
  receivedAt: Date,
  verdicts: readonly Verdict[],
): InboundChange {
  const changes: OperatorChange[] = [];
  for (const d of verdicts) {
    if (d.outcome !== 'candidate' || d.result !== 'accepted') continue;
    const r = d.record;
    changes.push({
      issuer: r.issuer,
      aeoId: r.operator.aeoId,
      version: r.version,
      recordId: r.recordId,
      digest: d.digest,
      status: r.status,
      statusSince: r.statusSince,
      programme: r.programme,
      roles: [...r.operator.roles],
      identifiers: r.operator.identifiers.map((i) => ({ scheme: i.scheme, value: i.value })),
    });
  }
  return { sender, receivedAt: receivedAt.getTime(), changes };
}
