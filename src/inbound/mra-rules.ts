/** The MRA rules a partner's record must meet once its signature and schema are good (docs/protocol.md). */
import { type CheckResult, fail } from '../crypto/types.ts';
import { mraInForce, programmeInScope, rolesInScope } from '../mra/scope.ts';
import type { Partner } from '../mra/types.ts';
import type { AeoStatusRecord } from '../protocol/record.ts';

/** How far ahead of the receiver's clock `issuedAt` may be. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface RuleContext {
  /** The partner whose anchors the signature chained to. */
  signer: Partner;
  /** The partner that sent the batch: the TLS peer with mTLS, otherwise the batch's first verified signer. */
  sender: string | null;
  now: Date;
}

export function checkMraRules(record: AeoStatusRecord, ctx: RuleContext): CheckResult<object> {
  if (record.issuer !== ctx.signer.adminId) {
    return fail(
      'ISSUER_MISMATCH',
      `issuer ${record.issuer} is not ${ctx.signer.adminId}, whose certificate signed it`,
    );
  }
  if (ctx.sender !== null && record.issuer !== ctx.sender) {
    return fail(
      'ISSUER_MISMATCH',
      `issuer ${record.issuer} is not ${ctx.sender}, the partner that sent the batch`,
    );
  }
  const mra = ctx.signer.mra;
  if (!mraInForce(mra, ctx.now))
    return fail('NO_MRA_IN_FORCE', `MRA ${mra.id} with ${record.issuer} is not in force`);
  if (!programmeInScope(mra, record.programme)) {
    return fail('OUT_OF_SCOPE', `programme ${record.programme} is outside the scope of MRA ${mra.id}`);
  }
  if (!rolesInScope(mra, record.operator.roles)) {
    return fail(
      'OUT_OF_SCOPE',
      `roles ${record.operator.roles.join(', ')} are outside the scope of MRA ${mra.id}`,
    );
  }
  if (Date.parse(record.issuedAt) > ctx.now.getTime() + MAX_CLOCK_SKEW_MS) {
    return fail(
      'ISSUED_IN_FUTURE',
      `issuedAt ${record.issuedAt} is more than 5 minutes ahead of the receiver`,
    );
  }
  return { ok: true };
}
