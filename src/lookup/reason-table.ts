/**
 * The recognition rule (src/mra/recognition.ts) as a table the answer writer reads with the codes a read-model
 * row already holds: status, programme, roles mask, and whether the MRA is in force at the time asked. Every
 * entry is computed by the rule itself when the table is built, so the writer's fast path is the same decision,
 * never a copy of it.
 */
import { NOT_RECOGNISED_REASONS, type NotRecognisedReason, notRecognisedReason } from '../mra/recognition.ts';
import type { Mra } from '../mra/types.ts';
import { PROGRAMMES, ROLES } from '../protocol/record.ts';
import { rolesOfMask } from './columns.ts';
import { STATUSES } from './read-model.ts';

const MASKS = 1 << ROLES.length;
/** Entry value of a recognised operator; otherwise 1 + the index of the reason in NOT_RECOGNISED_REASONS. */
const RECOGNISED = 0;

export class ReasonTable {
  private readonly codes: Uint8Array;

  /** `mra` undefined: the issuer has no MRA with this gateway. */
  constructor(mra: Mra | undefined) {
    this.codes = new Uint8Array(STATUSES.length * PROGRAMMES.length * 2 * MASKS);
    const roles = Array.from({ length: MASKS }, (_, mask) => rolesOfMask(mask));
    STATUSES.forEach((status, s) => {
      PROGRAMMES.forEach((programme, p) => {
        for (const inForce of [false, true]) {
          for (let mask = 0; mask < MASKS; mask += 1) {
            const reason = notRecognisedReason(mra, inForce, { status, programme, roles: roles[mask]! });
            this.codes[index(s, p, inForce, mask)] =
              reason === undefined ? RECOGNISED : NOT_RECOGNISED_REASONS.indexOf(reason) + 1;
          }
        }
      });
    });
  }

  /** The reason for a version's codes (read-model.ts), or undefined when it is recognised. */
  reason(
    statusCode: number,
    programmeCode: number,
    inForce: boolean,
    rolesMask: number,
  ): NotRecognisedReason | undefined {
    const code = this.codes[index(statusCode, programmeCode, inForce, rolesMask)]!;
    return code === RECOGNISED ? undefined : NOT_RECOGNISED_REASONS[code - 1];
  }
}

function index(statusCode: number, programmeCode: number, inForce: boolean, rolesMask: number): number {
  return ((statusCode * PROGRAMMES.length + programmeCode) * 2 + (inForce ? 1 : 0)) * MASKS + rolesMask;
}
